using WeSeek.Inference.Llama.Engine;

namespace WeSeek.Inference.Llama.Tests.Engine;

public sealed class NativeAbiCheckTests
{
    [Fact]
    public void BundledLibrary_PassesTheCheck() => NativeAbiCheck.Verify(customLibrary: null);

    [Theory]
    [InlineData(512u, 2048u, 1u)]
    [InlineData(0u, 0u, 0u)]
    [InlineData(2048u, 512u, 4294967295u)]
    public void MismatchedLayout_IsDescribedWithTheValuesReadBack(uint batch, uint microBatch, uint sequences)
    {
        var problem = NativeAbiCheck.Describe(batch, microBatch, sequences);

        Assert.NotNull(problem);
        Assert.Contains($"n_batch={batch}", problem, StringComparison.Ordinal);
    }
}

public sealed class LlamaTokenCounterTests
{
    [Fact]
    public async Task Count_UsesTheModelsTokenizerOnceLoaded()
    {
        var host = LlamaChatClientTests.CreateHost(new LlamaEngineOptions { ModelPath = TinyModel.File, ContextSize = 512 });
        await using (host)
        {
            var counter = new LlamaTokenCounter(host);
            var before = counter.Count("你好");
            await host.StartAsync(TestContext.Current.CancellationToken);

            // The byte-level vocabulary spends one token per UTF-8 byte: 6 for two Chinese characters,
            // where the estimate (one per CJK character) said 2; special tokens count as one.
            Assert.Equal(2, before);
            Assert.Equal(6, counter.Count("你好"));
            Assert.Equal(1, counter.Count("</think>"));
        }
    }
}
