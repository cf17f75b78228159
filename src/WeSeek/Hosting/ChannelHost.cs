using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using WeSeek.Logging;
using WeSeek.Messaging;
using WeSeek.Operations;

namespace WeSeek.Hosting;

/// <summary>Starts every registered channel with the inbox as its sink, and stops them on shutdown.</summary>
internal sealed partial class ChannelHost : IHostedService
{
    private readonly ChannelRegistry _channels;
    private readonly IInboundSink _sink;
    private readonly ILogger<ChannelHost> _logger;
    private readonly WeSeekMetrics _metrics;

    public ChannelHost(ChannelRegistry channels, IInboundSink sink, ILogger<ChannelHost> logger, WeSeekMetrics metrics)
    {
        _metrics = metrics;
        _channels = channels;
        _sink = sink;
        _logger = logger;
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var channel in _channels.All)
        {
            await channel.StartAsync(_sink, cancellationToken);
            Log.Started(_logger, channel.Id.Value);

            // Every channel's series exist from the start, at zero: a rate over "failed" reads 0, not "no data".
            var id = WeSeekMetrics.Channel(channel.Id.Value);
            _metrics.Received.Add(0, id);
            _metrics.Sent.Add(0, id, new("mode", "api"));
            _metrics.SendFailures.Add(0, id, new("permanent", false));
            _metrics.SendFailures.Add(0, id, new("permanent", true));
            _metrics.Duplicates.Add(0, id);
            foreach (var scope in (string[])["account", "user", "member", "group"])
            {
                _metrics.QuotaRejections.Add(0, id, new("scope", scope));
            }
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        foreach (var channel in _channels.All)
        {
            try
            {
                await channel.StopAsync(cancellationToken);
                Log.Stopped(_logger, channel.Id.Value);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                Log.StopFailed(_logger, ex, channel.Id.Value);
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(WeSeekEventId.ChannelStarted, LogLevel.Information, "Channel {Channel} started")]
        public static partial void Started(ILogger logger, string channel);

        [LoggerMessage(WeSeekEventId.ChannelStopped, LogLevel.Information, "Channel {Channel} stopped")]
        public static partial void Stopped(ILogger logger, string channel);

        [LoggerMessage(WeSeekEventId.ChannelStartFailed, LogLevel.Error, "Channel {Channel} failed to stop cleanly")]
        public static partial void StopFailed(ILogger logger, Exception exception, string channel);
    }
}
