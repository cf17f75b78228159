using LLama;
using LLama.Native;

namespace WeSeek.Inference.Llama.Models;

/// <summary>The quantisations WeSeek offers (the seed's 4/8/16-bit).</summary>
public enum ModelQuantization
{
    /// <summary>16-bit floats: no loss, twice the size of 8-bit.</summary>
    F16,

    /// <summary>8-bit: near-lossless, half of F16.</summary>
    Q8,

    /// <summary>4-bit K-quant, medium: the usual choice for chat (about 30% of F16).</summary>
    Q4KM,
}

/// <summary>Quantises GGUF files through llama.cpp's own quantiser.</summary>
public static class ModelQuantizer
{
    /// <summary>Parses <c>q4_k_m</c>, <c>q8_0</c>, <c>f16</c>, or the seed's <c>4</c>, <c>8</c>, <c>16</c>.</summary>
    /// <exception cref="ArgumentException">Anything else; the message lists what is accepted.</exception>
    public static ModelQuantization Parse(string value) => value.Trim().ToLowerInvariant() switch
    {
        "q4_k_m" or "q4km" or "4" => ModelQuantization.Q4KM,
        "q8_0" or "q8" or "8" => ModelQuantization.Q8,
        "f16" or "16" => ModelQuantization.F16,
        _ => throw new ArgumentException($"Unknown quantisation '{value}'. Use q4_k_m (4), q8_0 (8) or f16 (16).", nameof(value)),
    };

    /// <summary>The name used in file names and catalogs (<c>q4_k_m</c>).</summary>
    public static string FileTag(this ModelQuantization quantization) => quantization switch
    {
        ModelQuantization.Q4KM => "q4_k_m",
        ModelQuantization.Q8 => "q8_0",
        _ => "f16",
    };

    /// <summary>Quantises <paramref name="source"/> into <paramref name="destination"/>.</summary>
    /// <exception cref="InvalidOperationException">llama.cpp refused; the file is removed.</exception>
    public static void Quantize(string source, string destination, ModelQuantization to, int threads = -1)
    {
        if (!File.Exists(source))
        {
            throw new FileNotFoundException($"No model file at {source}.", source);
        }

        // The native resolver hooks in on the first touch of NativeApi; the quantiser alone would throw
        // DllNotFoundException('llama').
        NativeApi.llama_empty_call();
        var type = to switch
        {
            ModelQuantization.Q4KM => LLamaFtype.MOSTLY_Q4_K_M,
            ModelQuantization.Q8 => LLamaFtype.MOSTLY_Q8_0,
            _ => LLamaFtype.MOSTLY_F16,
        };

        // quantizeOutputTensor: llama.cpp's own default is true; LLamaSharp's false leaves output.weight in F16.
        if (!LLamaQuantizer.Quantize(source, destination, type, threads, allowRequantize: true, quantizeOutputTensor: true))
        {
            File.Delete(destination);
            throw new InvalidOperationException($"llama.cpp could not quantise {source} to {to.FileTag()}.");
        }
    }
}
