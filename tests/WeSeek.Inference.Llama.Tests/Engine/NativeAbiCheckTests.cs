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
