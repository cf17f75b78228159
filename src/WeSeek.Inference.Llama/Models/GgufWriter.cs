using System.Text;

namespace WeSeek.Inference.Llama.Models;

/// <summary>
/// Writes GGUF version 3 (ggml-org/ggml docs/gguf.md): header, metadata, tensor infos, then tensor data,
/// each aligned to 32 bytes. Hand-written because no .NET library writes GGUF, and the format is small.
/// Tensors are written by callbacks, so multi-gigabyte models stream to disk without being held in memory.
/// </summary>
internal sealed class GgufWriter
{
    public const int Alignment = 32;
    private readonly List<(string Key, GgufValueType Type, object Value)> _metadata = [];
    private readonly List<TensorSpec> _tensors = [];

    public void Add(string key, string value) => _metadata.Add((key, GgufValueType.String, value));

    public void Add(string key, uint value) => _metadata.Add((key, GgufValueType.UInt32, value));

    public void Add(string key, int value) => _metadata.Add((key, GgufValueType.Int32, value));

    public void Add(string key, float value) => _metadata.Add((key, GgufValueType.Float32, value));

    public void Add(string key, bool value) => _metadata.Add((key, GgufValueType.Bool, value));

    public void Add(string key, IReadOnlyList<string> values) => _metadata.Add((key, GgufValueType.Array, values));

    public void Add(string key, IReadOnlyList<int> values) => _metadata.Add((key, GgufValueType.Array, values));

    /// <summary>Adds a tensor. <paramref name="dims"/> are ggml's ne[]: the first is the row length.</summary>
    public void AddTensor(string name, GgmlType type, long[] dims, Action<Stream> writeData) =>
        _tensors.Add(new TensorSpec(name, type, dims, writeData));

    public long ParameterCount => _tensors.Sum(t => t.Elements);

    public void Write(Stream output, IProgress<double>? progress = null)
    {
        using var writer = new BinaryWriter(output, Encoding.UTF8, leaveOpen: true);
        writer.Write(0x46554747u); // "GGUF"
        writer.Write(3u);
        writer.Write((ulong)_tensors.Count);
        writer.Write((ulong)_metadata.Count);
        foreach (var (key, type, value) in _metadata)
        {
            WriteString(writer, key);
            writer.Write((uint)type);
            WriteValue(writer, type, value);
        }

        long offset = 0;
        foreach (var tensor in _tensors)
        {
            WriteString(writer, tensor.Name);
            writer.Write((uint)tensor.Dims.Length);
            foreach (var dim in tensor.Dims)
            {
                writer.Write((ulong)dim);
            }

            writer.Write((uint)tensor.Type);
            writer.Write((ulong)offset);
            offset = Align(offset + tensor.Bytes);
        }

        writer.Flush();
        Pad(output);
        long total = _tensors.Sum(t => t.Bytes), done = 0;
        foreach (var tensor in _tensors)
        {
            var start = output.Position;
            tensor.WriteData(output);
            if (output.Position - start != tensor.Bytes)
            {
                throw new InvalidOperationException($"Tensor {tensor.Name} wrote {output.Position - start} bytes, expected {tensor.Bytes}.");
            }

            Pad(output);
            done += tensor.Bytes;
            progress?.Report((double)done / Math.Max(1, total));
        }
    }

    private static void Pad(Stream output)
    {
        var padding = (int)(Align(output.Position) - output.Position);
        for (var i = 0; i < padding; i++)
        {
            output.WriteByte(0);
        }
    }

    private static long Align(long value) => (value + Alignment - 1) / Alignment * Alignment;

    private static void WriteString(BinaryWriter writer, string value)
    {
        var bytes = Encoding.UTF8.GetBytes(value);
        writer.Write((ulong)bytes.Length);
        writer.Write(bytes);
    }

    private static void WriteValue(BinaryWriter writer, GgufValueType type, object value)
    {
        switch (type)
        {
            case GgufValueType.String:
                WriteString(writer, (string)value);
                break;
            case GgufValueType.UInt32:
                writer.Write((uint)value);
                break;
            case GgufValueType.Int32:
                writer.Write((int)value);
                break;
            case GgufValueType.Float32:
                writer.Write((float)value);
                break;
            case GgufValueType.Bool:
                writer.Write((bool)value ? (byte)1 : (byte)0);
                break;
            case GgufValueType.Array when value is IReadOnlyList<string> strings:
                writer.Write((uint)GgufValueType.String);
                writer.Write((ulong)strings.Count);
                foreach (var s in strings)
                {
                    WriteString(writer, s);
                }

                break;
            case GgufValueType.Array when value is IReadOnlyList<int> ints:
                writer.Write((uint)GgufValueType.Int32);
                writer.Write((ulong)ints.Count);
                foreach (var i in ints)
                {
                    writer.Write(i);
                }

                break;
            default:
                throw new NotSupportedException($"GGUF value type {type} is not written by this writer.");
        }
    }

    private sealed record TensorSpec(string Name, GgmlType Type, long[] Dims, Action<Stream> WriteData)
    {
        public long Elements => Dims.Aggregate(1L, (a, b) => a * b);

        public long Bytes => Type switch
        {
            GgmlType.F32 => Elements * 4,
            GgmlType.F16 => Elements * 2,
            _ => throw new NotSupportedException($"Tensor type {Type} is written through the quantizer."),
        };
    }
}

/// <summary>GGUF metadata value types (gguf.md).</summary>
internal enum GgufValueType : uint
{
    UInt8 = 0,
    Int8 = 1,
    UInt16 = 2,
    Int16 = 3,
    UInt32 = 4,
    Int32 = 5,
    Float32 = 6,
    Bool = 7,
    String = 8,
    Array = 9,
    UInt64 = 10,
    Int64 = 11,
    Float64 = 12,
}

/// <summary>The ggml tensor types WeSeek names (ggml.h <c>enum ggml_type</c>).</summary>
internal enum GgmlType : uint
{
    F32 = 0,
    F16 = 1,
    Q4_0 = 2,
    Q4_1 = 3,
    Q5_0 = 6,
    Q5_1 = 7,
    Q8_0 = 8,
    Q8_1 = 9,
    Q2_K = 10,
    Q3_K = 11,
    Q4_K = 12,
    Q5_K = 13,
    Q6_K = 14,
    Q8_K = 15,
    BF16 = 30,
}
