using System.Text.Json;
using System.Text.Json.Nodes;

namespace WeSeek.Inference.Llama.Models;

/// <summary>One file of a model to download.</summary>
/// <param name="Path">The path inside the repository.</param>
/// <param name="Size">Bytes, when the catalog knows them.</param>
/// <param name="Sha256">Lower-case hex SHA-256, when the catalog knows it.</param>
public sealed record CatalogFile(string Path, long? Size, string? Sha256);

/// <summary>A resolved <c>deepseek-r1:&lt;size&gt;[:&lt;quant&gt;]</c>.</summary>
public sealed record CatalogEntry(string Name, string Repository, ModelQuantization Quantization, IReadOnlyList<CatalogFile> Files)
{
    /// <summary>The file name the model is stored under (the first part for split models).</summary>
    public string LocalName => System.IO.Path.GetFileName(Files[0].Path);
}

/// <summary>
/// Names the repositories and files of the six DeepSeek-R1 distills in three quantisations. The embedded
/// <c>catalog.json</c> can be overridden by <c>catalog.json</c> in the models directory (same shape), to add
/// sizes and checksums or other repositories.
/// </summary>
public sealed class ModelCatalog
{
    private readonly JsonObject _catalog;

    private ModelCatalog(JsonObject catalog) => _catalog = catalog;

    /// <summary>The embedded catalog, or the override in <paramref name="modelsDirectory"/> when present.</summary>
    public static ModelCatalog Load(string? modelsDirectory)
    {
        var overridePath = modelsDirectory is null ? null : System.IO.Path.Combine(modelsDirectory, "catalog.json");
        if (overridePath is not null && File.Exists(overridePath))
        {
            return new ModelCatalog(JsonNode.Parse(File.ReadAllText(overridePath))!.AsObject());
        }

        using var stream = typeof(ModelCatalog).Assembly.GetManifestResourceStream("WeSeek.Inference.Llama.Models.catalog.json")
            ?? throw new InvalidOperationException("The model catalog is missing from the build.");
        return new ModelCatalog(JsonNode.Parse(stream)!.AsObject());
    }

    /// <summary>Model sizes the catalog knows.</summary>
    public IEnumerable<string> Sizes => _catalog["models"]!.AsObject().Select(m => m.Key);

    /// <summary>Resolves <c>deepseek-r1:1.5b</c>, <c>deepseek-r1:7b:q8_0</c> and the like.</summary>
    /// <exception cref="ArgumentException">The name is not in the catalog; the message lists what is.</exception>
    public CatalogEntry Resolve(string name)
    {
        var parts = name.Trim().ToLowerInvariant().Split(':');
        if (parts.Length is < 2 or > 3 || parts[0] != "deepseek-r1" || _catalog["models"]![parts[1]] is not JsonObject model)
        {
            throw new ArgumentException($"Unknown model '{name}'. Use deepseek-r1:<size>[:<quant>] with size one of {string.Join(", ", Sizes)} and quant q4_k_m (default), q8_0 or f16.");
        }

        var quantization = parts.Length == 3 ? ModelQuantizer.Parse(parts[2]) : ModelQuantization.Q4KM;
        var tag = quantization.FileTag();
        var stem = model["stem"]!.GetValue<string>();
        var fileQuant = tag.ToUpperInvariant();
        var partCount = model["parts"]?[tag]?.GetValue<int>() ?? 1;
        var files = partCount == 1
            ? [$"{stem}-{fileQuant}.gguf"]
            : Enumerable.Range(1, partCount).Select(i => $"{stem}-{fileQuant}/{stem}-{fileQuant}-{i:D5}-of-{partCount:D5}.gguf").ToList();
        var known = _catalog["files"] as JsonObject;
        return new CatalogEntry(
            $"deepseek-r1:{parts[1]}:{tag}",
            model["repo"]!.GetValue<string>(),
            quantization,
            files.Select(f => new CatalogFile(f, known?[f]?["size"]?.GetValue<long>(), known?[f]?["sha256"]?.GetValue<string>())).ToList());
    }

    /// <summary>The download URL of a file from a Hugging Face-style or ModelScope endpoint.</summary>
    public static Uri FileUrl(Uri endpoint, string source, string repository, string path) => source switch
    {
        "modelscope" => new Uri(endpoint, $"models/{repository}/resolve/master/{path}"),
        _ => new Uri(endpoint, $"{repository}/resolve/main/{path}"),
    };

    /// <summary>For diagnostics.</summary>
    public override string ToString() => _catalog.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
}
