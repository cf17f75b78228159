using System.Threading.Channels;

namespace WeSeek.Inbox;

/// <summary>
/// Wakes a background loop when there may be work (a message stored, a turn finished). Coalescing: many
/// notifications before the loop looks count as one, so it is bounded by construction (capacity 1).
/// </summary>
internal sealed class DispatchSignal
{
    private readonly Channel<bool> _channel = Channel.CreateBounded<bool>(new BoundedChannelOptions(1)
    {
        FullMode = BoundedChannelFullMode.DropWrite,
    });

    public void Notify() => _channel.Writer.TryWrite(true);

    /// <summary>Waits for a notification or <paramref name="timeout"/>, whichever comes first.</summary>
    public async Task WaitAsync(TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        if (_channel.Reader.TryRead(out _))
        {
            return;
        }

        // The timeout runs on the injected clock, so tests on virtual time control it too.
        using var timeoutCts = new CancellationTokenSource(timeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeoutCts.Token);
        try
        {
            await _channel.Reader.WaitToReadAsync(linked.Token);
            _channel.Reader.TryRead(out _);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // The timeout: look for work anyway (retries that became due).
        }
    }
}

/// <summary>The outbox sender's wake-up signal, a separate instance of the same mechanism.</summary>
internal sealed class OutboxSignal
{
    private readonly DispatchSignal _inner = new();

    public void Notify() => _inner.Notify();

    public Task WaitAsync(TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken) => _inner.WaitAsync(timeout, time, cancellationToken);
}
