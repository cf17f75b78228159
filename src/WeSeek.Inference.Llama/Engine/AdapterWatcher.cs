using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using WeSeek.Inference.Llama.Models;
using WeSeek.Logging;

namespace WeSeek.Inference.Llama.Engine;

/// <summary>
/// How <c>weseek model adapter add|rm</c> reaches a running <c>serve</c>: the verb writes the adapter manifest in
/// the data directory (the same file a restart reads), and this watches it and hot-swaps the engine's adapters.
/// A file rather than an admin API call, because every other verb works on the data directory without a key or a
/// running server, and because a change made while <c>serve</c> is down must apply when it starts: one source of
/// truth, read on both paths. Changes within <see cref="Settle"/> of each other (an editor's several writes) are
/// applied once.
/// </summary>
internal sealed partial class AdapterWatcher(LlamaEngineHost engine, LlamaModelResolver resolver, ILogger<AdapterWatcher> logger) : BackgroundService
{
    /// <summary>How long the manifest must stay unchanged before it is applied.</summary>
    internal static readonly TimeSpan Settle = TimeSpan.FromMilliseconds(200);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var directory = resolver.DataDirectory;
        Directory.CreateDirectory(directory);
        var changed = System.Threading.Channels.Channel.CreateBounded<bool>(new System.Threading.Channels.BoundedChannelOptions(1) { FullMode = System.Threading.Channels.BoundedChannelFullMode.DropWrite });
        using var watcher = new FileSystemWatcher(directory, AdapterManifest.FileName)
        {
            NotifyFilter = NotifyFilters.LastWrite | NotifyFilters.FileName | NotifyFilters.Size | NotifyFilters.CreationTime,
        };
        watcher.Changed += (_, _) => changed.Writer.TryWrite(true);
        watcher.Created += (_, _) => changed.Writer.TryWrite(true);
        watcher.Deleted += (_, _) => changed.Writer.TryWrite(true);
        watcher.Renamed += (_, _) => changed.Writer.TryWrite(true);
        watcher.EnableRaisingEvents = true;
        try
        {
            while (await changed.Reader.WaitToReadAsync(stoppingToken))
            {
                await Task.Delay(Settle, stoppingToken);
                changed.Reader.TryRead(out _);
                try
                {
                    if (await engine.ReloadAdaptersAsync(stoppingToken) is { } swap)
                    {
                        Log.Reloaded(logger, swap.Pause.TotalMilliseconds, swap.Requeued);
                    }
                }
                catch (LlamaEngineException ex)
                {
                    // Not even the configured adapters could be applied again (the engine stopped?): the watch goes on.
                    Log.ReloadFailed(logger, ex.Message);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private static partial class Log
    {
        [LoggerMessage(WeSeekEventId.LlamaAdaptersReloaded, LogLevel.Information, "Applied the changed adapter manifest without a restart: generation paused {PauseMs:F1} ms, {Requeued} generating requests re-prefilled")]
        public static partial void Reloaded(ILogger logger, double pauseMs, int requeued);

        [LoggerMessage(WeSeekEventId.LlamaAdapterReloadFailed, LogLevel.Error, "The changed adapter manifest could not be applied: {Reason}")]
        public static partial void ReloadFailed(ILogger logger, string reason);
    }
}
