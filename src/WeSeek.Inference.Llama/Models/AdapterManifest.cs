using System.Text.Json;
using System.Text.Json.Serialization;
using WeSeek.Inference.Llama.Engine;

namespace WeSeek.Inference.Llama.Models;

/// <summary>
/// The LoRA adapters <c>weseek model adapter add|rm</c> manage: <c>adapters.json</c> in the data directory. It is
/// the one place both a restart and a running <c>serve</c> read (the host watches the file), so what is applied
/// never drifts from what the operator last said. Writes replace the file atomically, so a reader never sees
/// half of one.
/// </summary>
public sealed class AdapterManifest(string dataDirectory)
{
    /// <summary>The file's name in the data directory.</summary>
    public const string FileName = "adapters.json";

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    /// <summary>The manifest's path.</summary>
    public string FilePath { get; } = Path.Combine(dataDirectory, FileName);

    /// <summary>The adapters, in the order they apply; empty when there is no manifest.</summary>
    /// <exception cref="InvalidDataException">The file is not a manifest this version wrote.</exception>
    public IReadOnlyList<LoraAdapterOptions> Read()
    {
        if (!File.Exists(FilePath))
        {
            return [];
        }

        try
        {
            using var stream = new FileStream(FilePath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            var document = JsonSerializer.Deserialize<Document>(stream, Json);
            return document?.Adapters?.Select(a => new LoraAdapterOptions { Path = a.Path ?? "", Scale = a.Scale ?? 1f }).ToList() ?? [];
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"{FilePath} is not a list of adapters ({ex.Message}); fix or delete it, then `weseek model adapter add` again.", ex);
        }
    }

    /// <summary>Replaces the manifest with <paramref name="adapters"/>.</summary>
    public void Write(IReadOnlyList<LoraAdapterOptions> adapters)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(FilePath)!);
        var temporary = FilePath + $".{Environment.ProcessId}.tmp";
        File.WriteAllText(temporary, JsonSerializer.Serialize(new Document([.. adapters.Select(a => new Entry(a.Path, a.Scale))]), Json));
        File.Move(temporary, FilePath, overwrite: true);
    }

    private sealed record Document([property: JsonPropertyName("adapters")] List<Entry>? Adapters);

    private sealed record Entry([property: JsonPropertyName("path")] string? Path, [property: JsonPropertyName("scale")] float? Scale);
}
