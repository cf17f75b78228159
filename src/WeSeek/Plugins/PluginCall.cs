using WeSeek.Operations;

namespace WeSeek.Plugins;

/// <summary>How a contained plugin call ended: its value, or why it has none (<c>error</c>, <c>timeout</c>).</summary>
internal readonly record struct PluginCallResult<T>(T? Value, string? Failure, Exception? Error);

/// <summary>
/// Runs plugin code contained: on the thread pool (so code that blocks or throws before its first await is
/// caught too), under a time limit, its token cancelled on timeout; a failure is counted on
/// <c>weseek.plugins.failures</c> and returned, never thrown. Cancellation of the turn itself goes on up.
/// </summary>
internal static class PluginCall
{
    public static async Task<PluginCallResult<T>> RunAsync<T>(
        string plugin, Func<CancellationToken, Task<T>> call, TimeSpan timeout, TimeProvider time, WeSeekMetrics metrics, CancellationToken aborted)
    {
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(aborted);
        try
        {
            var value = await Task.Run(() => call(cancel.Token), CancellationToken.None).WaitAsync(timeout, time, aborted);
            return new PluginCallResult<T>(value, null, null);
        }
        catch (TimeoutException)
        {
            await cancel.CancelAsync();
            metrics.PluginFailures.Add(1, new("plugin", plugin), new("reason", "timeout"));
            return new PluginCallResult<T>(default, "timeout", null);
        }
        catch (Exception ex) when (!aborted.IsCancellationRequested)
        {
            metrics.PluginFailures.Add(1, new("plugin", plugin), new("reason", "error"));
            return new PluginCallResult<T>(default, "error", ex);
        }
    }
}
