using WeSeek.Inference.Llama.Engine;

namespace WeSeek.Inference.Llama.Tests.Engine;

public sealed class LlamaEngineLoadTests
{
    [Fact]
    public async Task ImpossibleContext_FailsWithAdviceNamingTheOption()
    {
        // 300 million tokens of KV cache is about 300 GB even for the tiny model: more than any machine here.
        var host = LlamaChatClientTests.CreateHost(new LlamaEngineOptions { ModelPath = TinyModel.File, ContextSize = 300_000_000, MaxSequences = 1 });
        await using (host)
        {
            var error = await Assert.ThrowsAsync<LlamaEngineException>(() => host.StartAsync(TestContext.Current.CancellationToken));

            Assert.Contains("Model:Llama:ContextSize", error.Message, StringComparison.Ordinal);
            Assert.Contains("KvCacheType=q8_0", error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task NotAGgufFile_FailsWithAdvice()
    {
        var path = Path.Combine(Path.GetTempPath(), $"not-a-model-{Guid.NewGuid():N}.gguf");
        await File.WriteAllTextAsync(path, "this is not a model", TestContext.Current.CancellationToken);
        try
        {
            var host = LlamaChatClientTests.CreateHost(new LlamaEngineOptions { ModelPath = path });
            await using (host)
            {
                var error = await Assert.ThrowsAsync<LlamaEngineException>(() => host.StartAsync(TestContext.Current.CancellationToken));
                Assert.Contains("weseek model inspect", error.Message, StringComparison.Ordinal);
            }
        }
        finally
        {
            File.Delete(path);
        }
    }
}
