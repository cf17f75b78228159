using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WeSeek.Inbox;
using WeSeek.Logging;
using WeSeek.Operations;
using WeSeek.Security;
using WeSeek.Storage;

namespace WeSeek.Pipeline;

/// <summary>
/// Turns stored messages into turns: at most <see cref="DispatcherOptions.MaxConcurrentTurns"/> at once,
/// one at a time per conversation and in arrival order, each in its own DI scope (disposed when the turn
/// ends). On shutdown it stops taking work, lets running turns finish for
/// <see cref="DispatcherOptions.DrainTimeout"/>, then cancels them; a cancelled turn stays pending and runs
/// again after restart.
/// </summary>
internal sealed partial class TurnDispatcher : BackgroundService
{
    private readonly ITurnStore _store;
    private readonly DispatchSignal _signal;
    private readonly IServiceScopeFactory _scopes;
    private readonly TurnDelegate _pipeline;
    private readonly DispatcherOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<TurnDispatcher> _logger;
    private readonly WeSeekMetrics _metrics;
    private readonly Dictionary<string, Task> _running = [];
    private readonly Dictionary<string, long> _runningIds = [];
    private long _renewedAt;
    private readonly CancellationTokenSource _turnsCts = new();

    // Written and read only by the dispatch loop (ExecuteAsync and the DispatchAvailableAsync it awaits).
    private DateTimeOffset? _heldUntil;

    public TurnDispatcher(
        ITurnStore store,
        DispatchSignal signal,
        IServiceScopeFactory scopes,
        TurnPipeline pipeline,
        IOptions<DispatcherOptions> options,
        TimeProvider time,
        ILogger<TurnDispatcher> logger, WeSeekMetrics metrics)
    {
        _metrics = metrics;
        _store = store;
        _signal = signal;
        _scopes = scopes;
        _pipeline = pipeline.Delegate;
        _options = options.Value;
        _time = time;
        _logger = logger;
    }

    /// <summary>Turns running now.</summary>
    public int Running
    {
        get
        {
            lock (_running)
            {
                return _running.Count;
            }
        }
    }

    /// <summary>Completes when every turn running now has ended (for tests and diagnostics).</summary>
    internal Task WhenIdleAsync()
    {
        lock (_running)
        {
            return Task.WhenAll(_running.Values);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                _heldUntil = null;
                try
                {
                    await DispatchAvailableAsync(stoppingToken);
                    await RenewLeasesAsync(stoppingToken);
                }
                catch (System.Data.Common.DbException ex)
                {
                    // The database went away: stored messages stay pending and are leased again after the pause.
                    Log.DatabaseUnavailable(_logger, ex, StorageOutage.RetryDelay);
                    await StorageOutage.PauseAsync(_time, stoppingToken);
                    continue;
                }

                // A group question held for its burst window runs when the window closes, not at the next poll.
                var wait = _heldUntil is { } due ? TimeSpan.FromTicks(Math.Clamp((due - _time.GetUtcNow()).Ticks, TimeSpan.FromMilliseconds(10).Ticks, _options.PollInterval.Ticks)) : _options.PollInterval;
                await _signal.WaitAsync(wait, _time, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }

        await DrainAsync();
        try
        {
            // Turns cancelled by the drain: another instance may take their messages at once.
            await _store.ReleaseLeasesAsync(CancellationToken.None);
        }
        catch (System.Data.Common.DbException ex)
        {
            Log.DatabaseUnavailable(_logger, ex, TimeSpan.Zero);
        }
    }

    /// <summary>Every third of the lease time, extends the leases of the turns running here, so that only a dead
    /// instance's messages are taken over.</summary>
    internal async Task RenewLeasesAsync(CancellationToken cancellationToken)
    {
        var now = _time.GetTimestamp();
        if (_renewedAt != 0 && _time.GetElapsedTime(_renewedAt, now) < _options.LeaseTime / 3)
        {
            return;
        }

        _renewedAt = now;
        long[] ids;
        lock (_running)
        {
            ids = [.. _runningIds.Values];
        }

        await _store.RenewLeasesAsync(ids, cancellationToken);
    }

    private void Held(DateTimeOffset due)
    {
        if (_heldUntil is not { } earliest || due < earliest)
        {
            _heldUntil = due;
        }
    }

    /// <summary>Starts turns for every conversation with due work, up to the concurrency limit; returns how many it started.</summary>
    internal async Task<int> DispatchAvailableAsync(CancellationToken cancellationToken)
    {
        HashSet<string> busy;
        lock (_running)
        {
            busy = [.. _running.Keys];
        }

        var free = _options.MaxConcurrentTurns - busy.Count;
        if (free <= 0)
        {
            return 0;
        }

        var started = 0;
        foreach (var pending in await _store.LeaseAsync(busy, free, cancellationToken, _options.GroupBurstWindow, Held))
        {
            lock (_running)
            {
                _running[pending.Conversation] = RunTurnAsync(pending);
                _runningIds[pending.Conversation] = pending.InboxId;
            }

            started++;
        }

        return started;
    }

    private async Task RunTurnAsync(PendingTurn pending)
    {
        // Yield so the dispatch loop registers this task before it can complete and remove itself.
        await Task.Yield();
        var aborted = _turnsCts.Token;
        var started = _time.GetTimestamp();
        var outcome = "done";
        using var activity = WeSeekTelemetry.Start("weseek.turn", ActivityKind.Internal, pending.Message.TraceParent);
        activity?.SetTag("weseek.inbox_id", pending.InboxId);
        activity?.SetTag("weseek.channel", pending.Message.Channel.Value);
        activity?.SetTag("weseek.attempt", pending.Attempts + 1);
        try
        {
            Log.TurnStarted(_logger, pending.InboxId, pending.Attempts + 1);
            var scope = _scopes.CreateAsyncScope();
            await using (scope.ConfigureAwait(false))
            {
                var turn = new Turn(pending.InboxId, pending.Message, pending.Conversation, scope.ServiceProvider, aborted);
                turn.Features.Set(pending);
                await _pipeline(turn);
            }

            Log.TurnCompleted(_logger, pending.InboxId);
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            // Shutdown: the message stays pending and runs again after restart.
        }
        catch (Exception ex)
        {
            outcome = pending.Attempts + 1 >= _options.MaxAttempts ? "failed" : "retry";
            activity?.SetStatus(ActivityStatusCode.Error, ex.GetType().Name);
            await RecordFailureAsync(pending, ex);
        }
        finally
        {
            _metrics.TurnDuration.Record(_time.GetElapsedTime(started).TotalSeconds, new KeyValuePair<string, object?>("outcome", outcome));
            lock (_running)
            {
                _running.Remove(pending.Conversation);
                _runningIds.Remove(pending.Conversation);
            }

            _signal.Notify();
        }
    }

    private async Task RecordFailureAsync(PendingTurn pending, Exception ex)
    {
        try
        {
            var attempts = pending.Attempts + 1;
            if (attempts >= _options.MaxAttempts)
            {
                Log.TurnGaveUp(_logger, ex, pending.InboxId, attempts);
                await _store.CompleteAsync(pending, [_options.FailureReply], [], failed: true, ex.GetType().Name + ": " + Redaction.Scrub(ex.Message), CancellationToken.None);
                return;
            }

            // Capped at an hour (a turn retried later than that answers a question nobody waits for); with the
            // defaults (5 s, 4 attempts) the longest wait is 20 s, far below it.
            var delay = Backoff.Exponential(_options.RetryDelay, TimeSpan.FromHours(1), attempts);
            // A model server that is down is expected and says why in one line; anything else gets its stack.
            Log.TurnFailed(_logger, ex is HttpRequestException or System.ClientModel.ClientResultException ? null : ex, pending.InboxId, attempts, delay, Redaction.Scrub(ex.Message));
            await _store.RecordFailureAsync(pending.InboxId, ex.GetType().Name + ": " + Redaction.Scrub(ex.Message), _time.GetUtcNow() + delay, CancellationToken.None);
        }
        catch (Exception storeEx)
        {
            // The message stays pending as it was; it runs again on the next pass or after restart.
            Log.TurnFailed(_logger, storeEx, pending.InboxId, pending.Attempts + 1, TimeSpan.Zero, storeEx.Message);
        }
    }

    private async Task DrainAsync()
    {
        Task[] running;
        lock (_running)
        {
            running = [.. _running.Values];
        }

        if (running.Length == 0)
        {
            return;
        }

        Log.Draining(_logger, running.Length, _options.DrainTimeout);
        try
        {
            await Task.WhenAll(running).WaitAsync(_options.DrainTimeout, _time);
        }
        catch (TimeoutException)
        {
            Log.DrainTimedOut(_logger, running.Length);
            await _turnsCts.CancelAsync();
            await Task.WhenAll(running);
        }
    }

    public override void Dispose()
    {
        _turnsCts.Dispose();
        base.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(WeSeekEventId.DispatcherDatabaseUnavailable, LogLevel.Warning, "The database does not answer; the dispatcher tries again in {Delay}")]
        public static partial void DatabaseUnavailable(ILogger logger, Exception exception, TimeSpan delay);

        [LoggerMessage(WeSeekEventId.TurnStarted, LogLevel.Debug, "Turn for message {InboxId} started (attempt {Attempt})")]
        public static partial void TurnStarted(ILogger logger, long inboxId, int attempt);

        [LoggerMessage(WeSeekEventId.TurnCompleted, LogLevel.Debug, "Turn for message {InboxId} completed")]
        public static partial void TurnCompleted(ILogger logger, long inboxId);

        [LoggerMessage(WeSeekEventId.TurnFailed, LogLevel.Warning, "Turn for message {InboxId} failed (attempt {Attempt}): {Reason}; retrying in {Delay}")]
        public static partial void TurnFailed(ILogger logger, Exception? exception, long inboxId, int attempt, TimeSpan delay, string reason);

        [LoggerMessage(WeSeekEventId.TurnGaveUp, LogLevel.Error, "Turn for message {InboxId} failed {Attempts} times; the user gets the failure reply")]
        public static partial void TurnGaveUp(ILogger logger, Exception exception, long inboxId, int attempts);

        [LoggerMessage(WeSeekEventId.DispatcherDraining, LogLevel.Information, "Shutting down: waiting up to {Timeout} for {Count} running turns")]
        public static partial void Draining(ILogger logger, int count, TimeSpan timeout);

        [LoggerMessage(WeSeekEventId.DispatcherDrainTimedOut, LogLevel.Warning, "{Count} turns did not finish in time; cancelled, they run again after restart")]
        public static partial void DrainTimedOut(ILogger logger, int count);
    }
}

/// <summary>The built turn pipeline, a singleton built once from the registered order.</summary>
internal sealed class TurnPipeline(TurnDelegate pipeline)
{
    public TurnDelegate Delegate { get; } = pipeline;
}
