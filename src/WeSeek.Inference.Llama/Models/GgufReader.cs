using System.Text;

namespace WeSeek.Inference.Llama.Models;

/// <summary>What a GGUF file says about itself, read without loading its weights.</summary>
/// <param name="Version">GGUF version (2 or 3).</param>
/// <param name="Metadata">Every scalar metadata value, as text; arrays as their length ("[151936 items]").</param>
/// <param name="Tensors">Tensor names, types and shapes.</param>
/// <param name="FileSize">Bytes on disk.</param>
public sealed record GgufInfo(uint Version, IReadOnlyDictionary<string, string> Metadata, IReadOnlyList<GgufTensorInfo> Tensors, long FileSize)
{
    /// <summary><c>general.architecture</c>, e.g. <c>qwen2</c>.</summary>
    public string Architecture => Metadata.GetValueOrDefault("general.architecture") ?? "unknown";

    /// <summary>Parameters: the product of every tensor's dimensions.</summary>
    public long ParameterCount => Tensors.Sum(t => t.Elements);

    /// <summary>The training context length, when the file says.</summary>
    public long? ContextLength => long.TryParse(Metadata.GetValueOrDefault(Architecture + ".context_length"), out var n) ? n : null;

    /// <summary>The metadata key <c>weseek model synth</c> sets on the models it writes.</summary>
    public const string SyntheticKey = "weseek.synthetic";

    /// <summary>True for a model <c>weseek model synth</c> wrote (random weights): its key, or the name it gives
    /// (files written before the key existed).</summary>
    public bool IsSynthetic =>
        string.Equals(Metadata.GetValueOrDefault(SyntheticKey), "true", StringComparison.OrdinalIgnoreCase)
        || (Metadata.GetValueOrDefault("general.name") ?? "").StartsWith("WeSeek synthetic ", StringComparison.Ordinal);

    /// <summary>The chat template, when the file has one.</summary>
    public string? ChatTemplate => Metadata.GetValueOrDefault("tokenizer.chat_template");

    /// <summary>The quantisation, from <c>general.file_type</c> (llama.cpp's <c>llama_ftype</c>).</summary>
    public string Quantization => uint.TryParse(Metadata.GetValueOrDefault("general.file_type"), out var type) ? type switch
    {
        0 => "F32",
        1 => "F16",
        2 => "Q4_0",
        3 => "Q4_1",
        7 => "Q8_0",
        8 => "Q5_0",
        9 => "Q5_1",
        10 => "Q2_K",
        11 => "Q3_K_S",
        12 => "Q3_K_M",
        13 => "Q3_K_L",
        14 => "Q4_K_S",
        15 => "Q4_K_M",
        16 => "Q5_K_S",
        17 => "Q5_K_M",
        18 => "Q6_K",
        32 => "BF16",
        _ => $"type {type}",
    } : "unknown";

    /// <summary>How many tensors of each type the file holds.</summary>
    public IReadOnlyDictionary<string, int> TensorTypes =>
        Tensors.GroupBy(t => t.TypeName).OrderByDescending(g => g.Count()).ToDictionary(g => g.Key, g => g.Count());
}

/// <summary>One tensor's header.</summary>
public sealed record GgufTensorInfo(string Name, uint Type, long[] Dimensions)
{
    /// <summary>Elements in the tensor.</summary>
    public long Elements => Dimensions.Aggregate(1L, (a, b) => a * b);

    /// <summary>ggml's name for the type.</summary>
    public string TypeName => Enum.IsDefined(typeof(GgmlType), Type) ? ((GgmlType)Type).ToString() : $"type{Type}";
}

/// <summary>
/// Reads GGUF headers (ggml-org/ggml docs/gguf.md): metadata and tensor infos, never the weights, so it
/// answers in milliseconds for a 40 GB file. Hand-written: no .NET library reads GGUF.
/// </summary>
public static class GgufReader
{
    /// <summary>Reads <paramref name="path"/>.</summary>
    /// <exception cref="InvalidDataException">Not a GGUF file, or a truncated or corrupt header.</exception>
    public static GgufInfo Read(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        using var reader = new BinaryReader(stream, Encoding.UTF8);
        try
        {
            if (reader.ReadUInt32() != 0x46554747)
            {
                throw new InvalidDataException($"{path} is not a GGUF file (wrong magic).");
            }

            var version = reader.ReadUInt32();
            if (version is < 2 or > 3)
            {
                throw new InvalidDataException($"{path} is GGUF version {version}; versions 2 and 3 are supported.");
            }

            var tensorCount = reader.ReadUInt64();
            var metadataCount = reader.ReadUInt64();
            if (tensorCount > 1_000_000 || metadataCount > 1_000_000)
            {
                throw new InvalidDataException($"{path} has an implausible header ({tensorCount} tensors, {metadataCount} keys).");
            }

            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            for (ulong i = 0; i < metadataCount; i++)
            {
                var key = ReadString(reader);
                metadata[key] = ReadValue(reader, (GgufValueType)reader.ReadUInt32());
            }

            var tensors = new List<GgufTensorInfo>((int)tensorCount);
            for (ulong i = 0; i < tensorCount; i++)
            {
                var name = ReadString(reader);
                var dims = new long[reader.ReadUInt32()];
                for (var d = 0; d < dims.Length; d++)
                {
                    dims[d] = (long)reader.ReadUInt64();
                }

                var type = reader.ReadUInt32();
                reader.ReadUInt64(); // Data offset: not needed here.
                tensors.Add(new GgufTensorInfo(name, type, dims));
            }

            return new GgufInfo(version, metadata, tensors, stream.Length);
        }
        catch (EndOfStreamException ex)
        {
            throw new InvalidDataException($"{path} ends inside its GGUF header: the file is truncated (an interrupted download?).", ex);
        }
    }

    private static string ReadString(BinaryReader reader)
    {
        var length = reader.ReadUInt64();
        if (length > 64 << 20)
        {
            throw new InvalidDataException($"A GGUF string of {length} bytes: the header is corrupt.");
        }

        return Encoding.UTF8.GetString(reader.ReadBytes((int)length));
    }

    private static string ReadValue(BinaryReader reader, GgufValueType type)
    {
        switch (type)
        {
            case GgufValueType.UInt8: return reader.ReadByte().ToString(System.Globalization.CultureInfo.InvariantCulture);
            case GgufValueType.Int8: return reader.ReadSByte().ToString(System.Globalization.CultureInfo.InvariantCulture);
            case GgufValueType.UInt16: return reader.ReadUInt16().ToString(System.Globalization.CultureInfo.InvariantCulture);
            case GgufValueType.Int16: return reader.ReadInt16().ToString(System.Globalization.CultureInfo.InvariantCulture);
            case GgufValueType.UInt32: return reader.ReadUInt32().ToString(System.Globalization.CultureInfo.InvariantCulture);
            case GgufValueType.Int32: return reader.ReadInt32().ToString(System.Globalization.CultureInfo.InvariantCulture);
            case GgufValueType.Float32: return reader.ReadSingle().ToString(System.Globalization.CultureInfo.InvariantCulture);
            case GgufValueType.Bool: return reader.ReadByte() != 0 ? "true" : "false";
            case GgufValueType.String: return ReadString(reader);
            case GgufValueType.UInt64: return reader.ReadUInt64().ToString(System.Globalization.CultureInfo.InvariantCulture);
            case GgufValueType.Int64: return reader.ReadInt64().ToString(System.Globalization.CultureInfo.InvariantCulture);
            case GgufValueType.Float64: return reader.ReadDouble().ToString(System.Globalization.CultureInfo.InvariantCulture);
            case GgufValueType.Array:
                var elementType = (GgufValueType)reader.ReadUInt32();
                var count = reader.ReadUInt64();
                for (ulong i = 0; i < count; i++)
                {
                    ReadValue(reader, elementType);
                }

                return $"[{count} items]";
            default:
                throw new InvalidDataException($"Unknown GGUF value type {(uint)type}: the header is corrupt.");
        }
    }
}
