using Microsoft.Extensions.AI;
using WeSeek.Moderation;

namespace WeSeek.Intents;

/// <summary>
/// Embeddings from the characters of a text: its Chinese characters and character pairs (and Latin letters and
/// letter pairs) hashed into 1,024 dimensions, L2-normalised, after the moderation normaliser has folded
/// width, case, punctuation and traditional characters. Similar wording scores high ("查订单" and "订单查询"),
/// meaning without shared characters does not: a lexical classifier that needs no model, the default until a
/// sentence-embedding model is registered as <see cref="IEmbeddingGenerator{TInput, TEmbedding}"/>.
/// Deterministic and thread-safe.
/// </summary>
internal sealed class CharacterNGramEmbeddings : IEmbeddingGenerator<string, Embedding<float>>
{
    public const int Dimensions = 1024;

    private static readonly EmbeddingGeneratorMetadata Metadata = new("weseek-char-ngrams", defaultModelId: "char-ngram-1024", defaultModelDimensions: Dimensions);

    public Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(values);
        var embeddings = new GeneratedEmbeddings<Embedding<float>>();
        foreach (var value in values)
        {
            cancellationToken.ThrowIfCancellationRequested();
            embeddings.Add(new Embedding<float>(Embed(value)) { ModelId = Metadata.DefaultModelId });
        }

        return Task.FromResult(embeddings);
    }

    public static float[] Embed(string text)
    {
        var vector = new float[Dimensions];
        var normalized = TextNormalizer.Normalize(text).Text;
        for (var i = 0; i < normalized.Length; i++)
        {
            vector[Bucket(normalized[i], '\0')] += 0.5f;
            if (i + 1 < normalized.Length)
            {
                vector[Bucket(normalized[i], normalized[i + 1])] += 1f;
            }
        }

        var norm = MathF.Sqrt(vector.Sum(v => v * v));
        if (norm > 0)
        {
            for (var i = 0; i < vector.Length; i++)
            {
                vector[i] /= norm;
            }
        }

        return vector;
    }

    /// <summary>Cosine similarity of two L2-normalised vectors.</summary>
    public static float Cosine(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        var dot = 0f;
        var na = 0f;
        var nb = 0f;
        for (var i = 0; i < Math.Min(a.Length, b.Length); i++)
        {
            dot += a[i] * b[i];
            na += a[i] * a[i];
            nb += b[i] * b[i];
        }

        return na == 0 || nb == 0 ? 0 : dot / MathF.Sqrt(na * nb);
    }

    // FNV-1a over the two characters: stable across processes (string.GetHashCode is randomised per process).
    private static int Bucket(char first, char second)
    {
        var hash = 2166136261u;
        foreach (var c in new[] { first, second })
        {
            hash = (hash ^ (c & 0xFFu)) * 16777619u;
            hash = (hash ^ (uint)(c >> 8)) * 16777619u;
        }

        return (int)(hash % Dimensions);
    }

    public object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceKey is null && serviceType == typeof(EmbeddingGeneratorMetadata) ? Metadata
        : serviceKey is null && serviceType.IsInstanceOfType(this) ? this : null;

    public void Dispose()
    {
    }
}
