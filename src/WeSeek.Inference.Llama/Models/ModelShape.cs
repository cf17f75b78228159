namespace WeSeek.Inference.Llama.Models;

/// <summary>
/// The dimensions of a Qwen2-architecture model. The named shapes are those of the real models, so a
/// synthesised file has their exact parameter count, size and speed (only the weights are random).
/// </summary>
public sealed record ModelShape(
    string Name,
    int EmbeddingLength,
    int BlockCount,
    int HeadCount,
    int HeadCountKv,
    int FeedForwardLength,
    int VocabularySize,
    int ContextLength,
    float RopeFreqBase,
    bool TiedEmbeddings)
{
    /// <summary>Small enough for tests: loads in a tenth of a second (compact synthetic vocabulary).</summary>
    public static ModelShape Tiny { get; } = new("tiny", 128, 4, 4, 2, 384, 0, 4096, 10000f, false);

    /// <summary>Qwen2.5-0.5B: 494M parameters.</summary>
    public static ModelShape Qwen05B { get; } = new("0.5b", 896, 24, 14, 2, 4864, 151936, 32768, 1000000f, true);

    /// <summary>DeepSeek-R1-Distill-Qwen-1.5B: 1.78B parameters.</summary>
    public static ModelShape R1Distill15B { get; } = new("r1-1.5b", 1536, 28, 12, 2, 8960, 151936, 131072, 10000f, false);

    /// <summary>DeepSeek-R1-Distill-Qwen-7B: 7.6B parameters.</summary>
    public static ModelShape R1Distill7B { get; } = new("r1-7b", 3584, 28, 28, 4, 18944, 152064, 131072, 10000f, false);

    /// <summary>Every named shape.</summary>
    public static IReadOnlyList<ModelShape> All { get; } = [Tiny, Qwen05B, R1Distill15B, R1Distill7B];

    /// <summary>The shape called <paramref name="name"/>.</summary>
    /// <exception cref="ArgumentException">No shape has that name; the message lists them.</exception>
    public static ModelShape Find(string name) =>
        All.FirstOrDefault(s => string.Equals(s.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException($"Unknown shape '{name}'. Shapes: {string.Join(", ", All.Select(s => s.Name))}.", nameof(name));

    /// <summary>Dimension of one attention head.</summary>
    public int HeadDimension => EmbeddingLength / HeadCount;
}
