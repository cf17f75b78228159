using System.Globalization;

namespace WeSeek.Inference.Llama.Models;

/// <summary>
/// What a LoRA adapter GGUF says about itself (llama.cpp's format, as <c>convert_lora_to_gguf.py</c> writes it):
/// <c>general.type = adapter</c>, <c>adapter.type = lora</c>, <c>adapter.lora.alpha</c>, and for each adapted
/// weight of the base model a pair of tensors <c>&lt;weight&gt;.lora_a</c> (ne = [in, rank]) and
/// <c>&lt;weight&gt;.lora_b</c> (ne = [rank, out]). Read from the header only.
/// </summary>
/// <param name="Path">The file.</param>
/// <param name="Architecture">The base model's architecture (<c>general.architecture</c>).</param>
/// <param name="Alpha">LoRA alpha; llama.cpp scales each update by alpha / rank (0 in the file means no scaling).</param>
/// <param name="Rank">The rank of the adapted weights (the largest, if they differ).</param>
/// <param name="Targets">The base model's weights it adapts.</param>
/// <param name="FileSize">Bytes on disk.</param>
public sealed record LoraAdapterFile(string Path, string Architecture, float Alpha, int Rank, IReadOnlyList<string> Targets, long FileSize)
{
    /// <summary>Reads and checks <paramref name="path"/> on its own (not yet against a base model).</summary>
    /// <exception cref="InvalidDataException">Not a GGUF file, or not a LoRA adapter; the message says which and why.</exception>
    public static LoraAdapterFile Read(string path)
    {
        var info = GgufReader.Read(path);
        var name = System.IO.Path.GetFileName(path);
        if (info.Metadata.GetValueOrDefault("general.type") != "adapter" || info.Metadata.GetValueOrDefault("adapter.type") is not { } type)
        {
            throw new InvalidDataException(
                $"{name} is not a LoRA adapter: its general.type is '{info.Metadata.GetValueOrDefault("general.type") ?? "(none)"}', not 'adapter' " +
                "(a model file? convert a trained adapter with llama.cpp's convert_lora_to_gguf.py, docs/adaptation.md).");
        }

        if (type != "lora")
        {
            throw new InvalidDataException($"{name} is a '{type}' adapter; only LoRA adapters (adapter.type = lora) are supported.");
        }

        var a = new Dictionary<string, GgufTensorInfo>(StringComparer.Ordinal);
        var b = new Dictionary<string, GgufTensorInfo>(StringComparer.Ordinal);
        foreach (var tensor in info.Tensors)
        {
            if (tensor.Name.EndsWith(".lora_a", StringComparison.Ordinal))
            {
                a[tensor.Name[..^".lora_a".Length]] = tensor;
            }
            else if (tensor.Name.EndsWith(".lora_b", StringComparison.Ordinal))
            {
                b[tensor.Name[..^".lora_b".Length]] = tensor;
            }
            else if (!tensor.Name.EndsWith("_norm.weight", StringComparison.Ordinal))
            {
                // llama.cpp skips norm vectors and refuses anything else.
                throw new InvalidDataException($"{name} has a tensor '{tensor.Name}' that is neither .lora_a nor .lora_b: not a LoRA adapter llama.cpp can load.");
            }
        }

        foreach (var target in a.Keys.Union(b.Keys))
        {
            if (!a.ContainsKey(target) || !b.ContainsKey(target))
            {
                throw new InvalidDataException($"{name} has only one of {target}.lora_a and {target}.lora_b: the adapter is incomplete.");
            }
        }

        if (a.Count == 0)
        {
            throw new InvalidDataException($"{name} adapts no weights (no .lora_a/.lora_b tensors).");
        }

        var alpha = float.TryParse(info.Metadata.GetValueOrDefault("adapter.lora.alpha"), NumberStyles.Float, CultureInfo.InvariantCulture, out var value) ? value : 0f;
        var rank = a.Values.Max(t => t.Dimensions.Length > 1 ? (int)t.Dimensions[1] : 0);
        return new LoraAdapterFile(System.IO.Path.GetFullPath(path), info.Architecture, alpha, rank, [.. a.Keys.Order(StringComparer.Ordinal)], info.FileSize)
        {
            Pairs = a.ToDictionary(p => p.Key, p => (p.Value, b[p.Key]), StringComparer.Ordinal),
        };
    }

    private IReadOnlyDictionary<string, (GgufTensorInfo A, GgufTensorInfo B)> Pairs { get; init; } = new Dictionary<string, (GgufTensorInfo, GgufTensorInfo)>();

    /// <summary>
    /// Why this adapter cannot run on <paramref name="baseModel"/>, in one line, or null when it can: the checks
    /// llama.cpp makes when it loads one (architecture, every target a weight of the base model, shapes that
    /// multiply), made here first so that a wrong adapter is refused with a message instead of a native error.
    /// </summary>
    public string? ProblemWith(GgufInfo baseModel, string baseName)
    {
        ArgumentNullException.ThrowIfNull(baseModel);
        var name = System.IO.Path.GetFileName(Path);
        if (!string.Equals(Architecture, baseModel.Architecture, StringComparison.Ordinal))
        {
            return $"{name} was made for a {Architecture} model, and {baseName} is {baseModel.Architecture}: it adapts another base model.";
        }

        var weights = baseModel.Tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
        foreach (var (target, (a, b)) in Pairs)
        {
            if (!weights.TryGetValue(target, out var weight))
            {
                return $"{name} adapts {target}, which {baseName} does not have: it was made for another base model.";
            }

            var ok = target.EndsWith("token_embd.weight", StringComparison.Ordinal)
                ? Dim(weight, 0) == Dim(b, 1) && Dim(weight, 1) == Dim(a, 1)
                : Dim(weight, 0) == Dim(a, 0) && Dim(weight, 1) == Dim(b, 1) && Dim(a, 1) == Dim(b, 0);
            if (!ok)
            {
                return $"{name}'s update of {target} ({Shape(a)}·{Shape(b)}) does not fit {baseName}'s {Shape(weight)} weight: " +
                    "it was made for another base model (another size of the same family?).";
            }
        }

        return null;
    }

    private static long Dim(GgufTensorInfo tensor, int index) => index < tensor.Dimensions.Length ? tensor.Dimensions[index] : 1;

    private static string Shape(GgufTensorInfo tensor) => $"[{string.Join('×', tensor.Dimensions)}]";
}
