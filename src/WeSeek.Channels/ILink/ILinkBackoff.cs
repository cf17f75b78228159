using Microsoft.Extensions.Logging;
using WeSeek.Messaging;
using WeSeek.Operations;

namespace WeSeek.Channels.ILink;

/// <summary>
/// How long the iLink channel waits before trying again, for the poll and the send alike:
/// <see cref="Backoff.Exponential"/> from <see cref="ILinkOptions.RetryDelay"/> up to
/// <see cref="ILinkOptions.MaxRetryDelay"/>, jittered so that many bots rate-limited together do not come back
/// together. A rate-limited answer (<c>ret=-2</c>) is counted and logged here, once per operation. Thread-safe.
/// </summary>
internal sealed partial class ILinkBackoff(ILinkOptions options, ILinkMetrics metrics, ILogger logger, ChannelId channel)
{
    private readonly ILinkOptions _options = options;
    private readonly ILinkMetrics _metrics = metrics;
    private readonly ILogger _logger = logger;
    private readonly ChannelId _channel = channel;

    /// <summary>The wait after <paramref name="failures"/> failures in a row (from 1).</summary>
    public TimeSpan After(int failures) =>
        Backoff.Exponential(_options.RetryDelay, _options.MaxRetryDelay, failures, Random.Shared.NextDouble());

    /// <summary>The wait after <paramref name="failures"/> failures of <paramref name="operation"/> the last of
    /// which was <c>ret=-2</c>; counted in <see cref="ILinkMetrics.RateLimited"/> and logged.</summary>
    public TimeSpan RateLimited(string operation, int failures)
    {
        var delay = After(failures);
        _metrics.RateLimited.Add(1, new KeyValuePair<string, object?>("operation", operation));
        Log.RateLimited(_logger, _channel.Value, operation, delay);
        return delay;
    }

    private static partial class Log
    {
        [LoggerMessage(ChannelEventId.ILinkRateLimited, LogLevel.Warning, "{Channel}: iLink rate limited {Operation} (ret=-2); backing off {Delay}")]
        public static partial void RateLimited(ILogger logger, string channel, string operation, TimeSpan delay);
    }
}
