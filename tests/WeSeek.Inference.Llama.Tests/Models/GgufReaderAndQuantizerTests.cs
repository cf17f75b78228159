using LLama;
using LLama.Common;
using WeSeek.Inference.Llama.Models;
using WeSeek.TestKit;

namespace WeSeek.Inference.Llama.Tests.Models;

public sealed class GgufReaderAndQuantizerTests
{
    [Fact]
    public void Read_SynthesisedTiny_DescribesItWithoutLoadingWeights()
    {
        using var dir = new TempDirectory();
        var path = Path.Combine(dir.Path, "tiny.gguf");
        var parameters = ModelSynthesizer.Write(path, ModelShape.Tiny);

        var info = GgufReader.Read(path);

        Assert.Equal(3u, info.Version);
        Assert.Equal("qwen2", info.Architecture);
        Assert.Equal(parameters, info.ParameterCount);
        Assert.Equal("F32", info.Quantization);
        Assert.Equal(4096, info.ContextLength);
        Assert.Contains("<｜Assistant｜>", info.ChatTemplate, StringComparison.Ordinal);
        Assert.Equal(4 * 12 + 2 + 1, info.Tensors.Count);
        Assert.Equal(["F32"], info.TensorTypes.Keys);
    }

    [Fact]
    public void Read_TruncatedFile_SaysSo()
    {
        using var dir = new TempDirectory();
        var path = Path.Combine(dir.Path, "tiny.gguf");
        ModelSynthesizer.Write(path, ModelShape.Tiny);
        using (var stream = new FileStream(path, FileMode.Open))
        {
            stream.SetLength(2000);
        }

        var error = Assert.Throws<InvalidDataException>(() => GgufReader.Read(path));
        Assert.Contains("truncated", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_NotAGguf_SaysSo()
    {
        using var dir = new TempDirectory();
        var path = Path.Combine(dir.Path, "x.gguf");
        File.WriteAllText(path, "hello world, not a model");

        Assert.Contains("not a GGUF", Assert.Throws<InvalidDataException>(() => GgufReader.Read(path)).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("q8_0", "Q8_0")]
    [InlineData("q4_k_m", "Q4_K_M")]
    [InlineData("16", "F16")]
    public void Quantize_TinyF32_LoadsInLlamaCpp(string to, string expected)
    {
        using var dir = new TempDirectory();
        var source = Path.Combine(dir.Path, "tiny.gguf");
        var target = Path.Combine(dir.Path, $"tiny.{to}.gguf");
        ModelSynthesizer.Write(source, ModelShape.Tiny);

        ModelQuantizer.Quantize(source, target, ModelQuantizer.Parse(to));

        var info = GgufReader.Read(target);
        Assert.Equal(expected, info.Quantization);
        Assert.True(info.FileSize < new FileInfo(source).Length);
        using var weights = LLamaWeights.LoadFromFile(new ModelParams(target) { GpuLayerCount = 0 });
        Assert.Equal((ulong)GgufReader.Read(source).ParameterCount, weights.ParameterCount);
    }

    [Fact]
    public void Quantize_UnknownType_IsRefusedWithTheChoices() =>
        Assert.Contains("q4_k_m", Assert.Throws<ArgumentException>(() => ModelQuantizer.Parse("q3")).Message, StringComparison.Ordinal);

    [Fact]
    public void Catalog_ResolvesEverySizeAndQuant_AndRefusesUnknownNames()
    {
        var catalog = ModelCatalog.Load(null);
        foreach (var size in new[] { "1.5b", "7b", "8b", "14b", "32b", "70b" })
        {
            foreach (var quant in new[] { "q4_k_m", "q8_0", "f16" })
            {
                var entry = catalog.Resolve($"deepseek-r1:{size}:{quant}");
                Assert.NotEmpty(entry.Files);
                Assert.All(entry.Files, f => Assert.EndsWith(".gguf", f.Path, StringComparison.Ordinal));
            }
        }

        Assert.Equal(ModelQuantization.Q4KM, catalog.Resolve("deepseek-r1:1.5b").Quantization);
        Assert.Equal(2, catalog.Resolve("deepseek-r1:70b:q8_0").Files.Count);
        Assert.Contains("1.5b", Assert.Throws<ArgumentException>(() => catalog.Resolve("llama:3b")).Message, StringComparison.Ordinal);
    }
}
