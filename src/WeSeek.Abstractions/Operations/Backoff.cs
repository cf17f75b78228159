namespace WeSeek.Operations;

/// <summary>
/// The one retry-delay rule: exponential from a first delay, doubling per failure, capped. Used wherever WeSeek
/// waits before trying again (turns, outbox sends, the iLink poll and send, the OneBot reconnect), so that every retry
/// grows the same way and none grows without bound. Pure and thread-safe.
/// </summary>
public static class Backoff
{
    /// <summary>
    /// <paramref name="first"/> × 2^(<paramref name="failures"/> − 1), at most <paramref name="max"/>. With
    /// <paramref name="jitter"/> (a sample in [0, 1), e.g. <see cref="Random.NextDouble"/>) the result is scaled
    /// by 0.5 + jitter, ±50 %, so that many clients failing together do not come back together.
    /// </summary>
    /// <param name="first">The delay after the first failure.</param>
    /// <param name="max">The longest delay.</param>
    /// <param name="failures">Failures so far, from 1; 0 or less counts as 1.</param>
    /// <param name="jitter">Null for no jitter.</param>
    public static TimeSpan Exponential(TimeSpan first, TimeSpan max, int failures, double? jitter = null)
    {
        // In doubles: 2^n of a long overflows long before the cap would stop it.
        var ticks = Math.Min(first.Ticks * Math.Pow(2, Math.Clamp(failures - 1, 0, 62)), max.Ticks);
        return TimeSpan.FromTicks((long)(jitter is { } sample ? ticks * (0.5 + sample) : ticks));
    }
}
