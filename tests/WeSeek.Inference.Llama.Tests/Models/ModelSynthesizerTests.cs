using LLama;
using LLama.Batched;
using LLama.Common;
using LLama.Native;
using LLama.Sampling;
using WeSeek.Inference.Llama.Models;
using WeSeek.TestKit;

namespace WeSeek.Inference.Llama.Tests.Models;

public sealed class ModelSynthesizerTests
{
    [Fact]
    public async Task Synth_Tiny_LoadsInLlamaCppAndGenerates()
    {
        using var dir = new TempDirectory();
        var path = Path.Combine(dir.Path, "tiny.gguf");
        var parameters = ModelSynthesizer.Write(path, ModelShape.Tiny);

        using var weights = await LLamaWeights.LoadFromFileAsync(new ModelParams(path) { GpuLayerCount = 0 });
        Assert.Equal((ulong)parameters, weights.ParameterCount);
        Assert.Equal(128, weights.EmbeddingSize);
        Assert.Equal("qwen2", weights.Metadata["general.architecture"]);

        using var executor = new BatchedExecutor(weights, new ModelParams(path) { ContextSize = 512, GpuLayerCount = 0 });
        using var conversation = executor.Create();
        conversation.Prompt(executor.Context.Tokenize("<｜User｜>你好<｜Assistant｜>", addBos: true, special: true));
        using var sampler = new DefaultSamplingPipeline { Seed = 7 };
        var generated = 0;
        for (var i = 0; i < 8; i++)
        {
            Assert.Equal(DecodeResult.Ok, await executor.Infer(TestContext.Current.CancellationToken));
            var token = conversation.Sample(sampler);
            conversation.Prompt(token);
            generated++;
        }

        Assert.Equal(8, generated);
    }

    [Fact]
    public void Synth_Tiny_SpecialTokensAreSingleTokens()
    {
        using var dir = new TempDirectory();
        var path = Path.Combine(dir.Path, "tiny.gguf");
        ModelSynthesizer.Write(path, ModelShape.Tiny);

        using var weights = LLamaWeights.LoadFromFile(new ModelParams(path) { GpuLayerCount = 0 });
        foreach (var special in new[] { "<｜User｜>", "<｜Assistant｜>", "<think>", "</think>", "<｜end▁of▁sentence｜>" })
        {
            Assert.Single(weights.Tokenize(special, add_bos: false, special: true, System.Text.Encoding.UTF8));
        }

        Assert.Equal(weights.Vocab.EOS, weights.Tokenize("<｜end▁of▁sentence｜>", false, true, System.Text.Encoding.UTF8)[0]);
    }
}
