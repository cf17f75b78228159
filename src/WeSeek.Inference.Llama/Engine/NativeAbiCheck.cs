using LLama.Native;

namespace WeSeek.Inference.Llama.Engine;

/// <summary>
/// Checks, before the first model load, that the llama.cpp library loaded speaks LLamaSharp 0.30.0's ABI
/// (llama.cpp 815a2a591): it reads llama.cpp's default context parameters back through LLamaSharp's struct
/// layout. A library from another commit lays the struct out differently, and the values come back as
/// nonsense; loading a model through it would crash the process instead of failing with a message.
/// </summary>
internal static class NativeAbiCheck
{
    /// <summary>The llama.cpp commit LLamaSharp 0.30.0's structures match (inference-cpu.md §1).</summary>
    public const string ExpectedCommit = "815a2a591";

    public static void Verify(string? customLibrary)
    {
        // Touching NativeApi first installs LLamaSharp's library resolver; a direct first call would not find it.
        NativeApi.llama_empty_call();
        var defaults = LLamaContextParams.Default();
        if (Describe(defaults.n_batch, defaults.n_ubatch, defaults.n_seq_max) is { } problem)
        {
            throw new LlamaEngineException(
                $"The llama.cpp library {(customLibrary is null ? "bundled with LLamaSharp" : $"at {customLibrary}")} does not match LLamaSharp 0.30.0 ({problem}). " +
                $"It was built from another llama.cpp commit; build llama.cpp {ExpectedCommit} (with CUDA if needed) and point Model:Llama:NativeLibraryPath at it, or remove that setting to use the bundled CPU library.");
        }
    }

    /// <summary>What is wrong with the defaults read back, or null when they are llama.cpp's.</summary>
    internal static string? Describe(uint batch, uint microBatch, uint sequences) =>
        batch == 2048 && microBatch == 512 && sequences == 1
            ? null
            : $"its default context parameters read back as n_batch={batch}, n_ubatch={microBatch}, n_seq_max={sequences} instead of 2048, 512, 1";
}
