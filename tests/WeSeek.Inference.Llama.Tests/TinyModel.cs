using WeSeek.Inference.Llama.Models;

namespace WeSeek.Inference.Llama.Tests;

/// <summary>One synthesised tiny model per test run, shared by the tests that only read it.</summary>
public static class TinyModel
{
    private static readonly Lazy<string> SharedPath = new(() =>
    {
        var path = Path.Combine(Path.GetTempPath(), "weseek-tests", $"tiny-{Environment.ProcessId}.gguf");
        ModelSynthesizer.Write(path, ModelShape.Tiny, seed: 42);
        return path;
    });

    public static string File => SharedPath.Value;
}
