namespace WeSeek.Operations;

/// <summary>
/// The loop of the gauges counted from the store (queue depths, today's sends): refresh now, then every
/// <c>interval</c>; a failed count is reported and the gauge keeps its last value until the next tick.
/// </summary>
internal static class PeriodicRefresh
{
    public static async Task RunAsync(TimeSpan interval, TimeProvider time, Func<CancellationToken, Task> refresh, Action<Exception> failed, CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(interval, time);
        do
        {
            try
            {
                await refresh(stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                failed(ex);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
