using WeSeek.Operations;

namespace WeSeek.Tests.Operations;

/// <summary>The one retry-delay rule that turns, outbox sends, the iLink poll and the OneBot reconnect share.</summary>
public sealed class BackoffTests
{
    [Theory]
    [InlineData(1, 5)]
    [InlineData(2, 10)]
    [InlineData(3, 20)]
    [InlineData(4, 40)]
    [InlineData(5, 60)]
    [InlineData(1000, 60)]
    public void Exponential_DoublesFromTheFirstDelay_UpToTheCap(int failures, int seconds) =>
        Assert.Equal(TimeSpan.FromSeconds(seconds), Backoff.Exponential(TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(60), failures));

    [Fact]
    public void Exponential_WithNoFailureYet_IsTheFirstDelay() =>
        Assert.Equal(TimeSpan.FromSeconds(5), Backoff.Exponential(TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(1), 0));

    [Theory]
    [InlineData(0.0, 5)]
    [InlineData(0.5, 10)]
    [InlineData(0.999, 14.99)]
    public void Exponential_WithJitter_ScalesByHalfToOneAndAHalf(double jitter, double seconds) =>
        Assert.Equal(seconds, Backoff.Exponential(TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(1), 2, jitter).TotalSeconds, 3);

    [Fact]
    public void Exponential_OfALongFirstDelay_DoesNotOverflow() =>
        Assert.Equal(TimeSpan.FromDays(1), Backoff.Exponential(TimeSpan.FromHours(1), TimeSpan.FromDays(1), int.MaxValue));
}
