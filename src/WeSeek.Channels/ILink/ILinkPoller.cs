using System.Text.Json;
using Microsoft.Extensions.Logging;
using WeSeek.Messaging;
using WeSeek.Operations;

namespace WeSeek.Channels.ILink;

/// <summary>Where the channel's poller is.</summary>
public enum ILinkPollerState
{
    /// <summary>Not started, or stopped.</summary>
    Stopped,

    /// <summary>No token in the store: waiting for <c>weseek login weixin</c>.</summary>
    NotLoggedIn,

    /// <summary>Another process polls this bot token; waiting for its lease to end.</summary>
    WaitingForLease,

    /// <summary>Holding the lease and long-polling.</summary>
    Polling,

    /// <summary>iLink ended the session (errcode -14): waiting for a new QR scan.</summary>
    SessionExpired,
}

/// <summary>
/// The iLink channel's one long-poll loop, in the process that holds the bot token's lease: each batch of
/// <c>getupdates</c> goes to the inbox message by message (<see cref="ILinkReceiver"/>), and only then is the new
/// cursor saved, before the next poll; a crash in between re-reads the batch, which the inbox recognises by
/// message id. A failed poll is retried after <see cref="ILinkBackoff"/>; <c>errcode -14</c> ends the session
/// (<see cref="ILinkSessions"/>) and the loop waits for a new login. Start and stop from one thread.
/// </summary>
internal sealed partial class ILinkPoller : IAsyncDisposable
{
    private readonly ILinkOptions _options;
    private readonly ILinkApiClient _api;
    private readonly ILinkSessions _sessions;
    private readonly ILinkReceiver _receiver;
    private readonly ILinkBackoff _backoff;
    private readonly IChannelLease _lease;
    private readonly IOperatorNotices _notices;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ChannelId _channel;
    private readonly string _owner = LeaseOwners.ForThisProcess();
    private CancellationTokenSource? _stopping;
    private Task _loop = Task.CompletedTask;
    private volatile ILinkPollerState _phase;
    private TimeSpan _pollTimeout;

    public ILinkPoller(ILinkOptions options, ILinkApiClient api, ILinkSessions sessions, ILinkReceiver receiver, ILinkBackoff backoff, IChannelLease lease, IOperatorNotices notices, TimeProvider time, ILogger logger, ChannelId channel)
    {
        _options = options;
        _api = api;
        _sessions = sessions;
        _receiver = receiver;
        _backoff = backoff;
        _lease = lease;
        _notices = notices;
        _time = time;
        _logger = logger;
        _channel = channel;
        _pollTimeout = options.LongPollTimeout;
    }

    /// <summary>Where the poller is; an expired session shows until the poller uses a new one.</summary>
    public ILinkPollerState State => _sessions.IsExpired ? ILinkPollerState.SessionExpired : _phase;

    public void Start()
    {
        _stopping = new CancellationTokenSource();
        var stopping = _stopping.Token;
        _loop = Task.Run(() => RunAsync(stopping), CancellationToken.None);
    }

    /// <summary>Ends the loop and waits for it. Idempotent: the host stops the channel, then the container
    /// disposes it (once per registration).</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _stopping, null) is { } stopping)
        {
            await stopping.CancelAsync();
            await _loop.WaitAsync(cancellationToken).ContinueWith(static _ => { }, TaskScheduler.Default);
            stopping.Dispose();
        }

        _sessions.Reset();
        _phase = ILinkPollerState.Stopped;
    }

    public ValueTask DisposeAsync() => new(StopAsync(CancellationToken.None));

    private async Task RunAsync(CancellationToken stopping)
    {
        var announced = false;
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                if (await _sessions.ActiveAsync(stopping) is not var (session, account))
                {
                    if (!_sessions.IsExpired && !announced)
                    {
                        _phase = ILinkPollerState.NotLoggedIn;
                        Log.NotLoggedIn(_logger, _channel.Value);
                        _notices.Add($"微信 (iLink) {_channel.Value} is not logged in: run `weseek login weixin` and scan the QR code.");
                        announced = true;
                    }

                    // A login from another process (the CLI verb) lands in the store; look again now and then.
                    await Task.Delay(_options.LeaseRetryInterval, _time, stopping);
                    continue;
                }

                _sessions.Use(session, account);
                await PollAsync(session, account, stopping);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // The store itself failed (disk full, locked); nothing is lost, the cursor is where it was.
                Log.PollFailed(_logger, ex, _channel.Value);
                await DelayQuietlyAsync(_options.RetryDelay, stopping);
            }
        }
    }

    /// <summary>Polls with <paramref name="session"/> while this process holds its lease; returns when the
    /// session expired or the stored login changed.</summary>
    private async Task PollAsync(ILinkSession session, ILinkState account, CancellationToken stopping)
    {
        var leaseName = ILinkState.LeaseName(session.BotToken);
        var held = false;
        var waitingLogged = false;
        var failures = 0;
        try
        {
            while (!stopping.IsCancellationRequested)
            {
                if ((await _sessions.ActiveAsync(stopping))?.Session.BotToken != session.BotToken)
                {
                    // A new login (here or in another process) replaced this token, another process saw it
                    // expire, or the main account is back from a backup: start over with what the store holds.
                    Log.LoginChanged(_logger, _channel.Value);
                    return;
                }

                if (!held)
                {
                    if (!await _lease.TryAcquireAsync(leaseName, _owner, _options.LeaseTtl, stopping))
                    {
                        _phase = ILinkPollerState.WaitingForLease;
                        if (!waitingLogged)
                        {
                            Log.WaitingForLease(_logger, _channel.Value, _options.LeaseRetryInterval);
                            waitingLogged = true;
                        }

                        await Task.Delay(_options.LeaseRetryInterval, _time, stopping);
                        continue;
                    }

                    held = true;
                    waitingLogged = false;
                    Log.LeaseAcquired(_logger, _channel.Value);
                }
                else if (!await _lease.RenewAsync(leaseName, _owner, _options.LeaseTtl, stopping))
                {
                    held = false;
                    Log.LeaseLost(_logger, _channel.Value);
                    continue;
                }

                _phase = ILinkPollerState.Polling;
                try
                {
                    await PollOnceAsync(session, account, stopping);
                    failures = 0;
                }
                catch (ILinkApiException ex) when (ex.IsSessionExpired)
                {
                    await _sessions.ExpireAsync(session, account, stopping);
                    return;
                }
                catch (Exception ex) when (ex is ILinkApiException or HttpRequestException or JsonException or IOException or ILinkInboxException)
                {
                    failures++;
                    TimeSpan delay;
                    if (ex is ILinkApiException { IsRateLimited: true })
                    {
                        delay = _backoff.RateLimited("getupdates", failures);
                    }
                    else
                    {
                        delay = _backoff.After(failures);
                        Log.PollRetry(_logger, ex, _channel.Value, failures, delay);
                    }

                    await Task.Delay(delay, _time, stopping);
                }
            }
        }
        finally
        {
            if (held)
            {
                await _lease.ReleaseAsync(leaseName, _owner, CancellationToken.None);
            }
        }
    }

    /// <summary>One <c>getupdates</c>: every message accepted by the inbox, then the cursor saved.</summary>
    private async Task PollOnceAsync(ILinkSession session, ILinkState account, CancellationToken stopping)
    {
        var cursor = await account.GetCursorAsync(stopping);
        var reply = await _api.GetUpdatesAsync(session, cursor, _pollTimeout, stopping);
        if (reply.LongpollingTimeoutMs is > 0 and < 600_000)
        {
            // The server says how long it will hold the next poll; wait that long plus the way back.
            _pollTimeout = TimeSpan.FromMilliseconds(reply.LongpollingTimeoutMs.Value) + TimeSpan.FromSeconds(5);
        }

        foreach (var message in reply.Msgs ?? [])
        {
            await _receiver.AcceptAsync(message, stopping);
        }

        // Only now, with the whole batch durable, may the cursor move: a crash before this line re-reads the
        // batch (the inbox drops what it already has); a crash after it loses nothing.
        if (!string.IsNullOrEmpty(reply.GetUpdatesBuf) && reply.GetUpdatesBuf != cursor)
        {
            await account.SetCursorAsync(reply.GetUpdatesBuf, stopping);
        }
    }

    private async Task DelayQuietlyAsync(TimeSpan delay, CancellationToken stopping)
    {
        try
        {
            await Task.Delay(delay, _time, stopping);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static partial class Log
    {
        [LoggerMessage(ChannelEventId.ILinkNotLoggedIn, LogLevel.Warning, "{Channel} is not logged in: run `weseek login weixin` and scan the QR code")]
        public static partial void NotLoggedIn(ILogger logger, string channel);

        [LoggerMessage(ChannelEventId.ILinkWaitingForLease, LogLevel.Warning, "{Channel}: another process polls this bot token; waiting for its lease (trying every {Interval})")]
        public static partial void WaitingForLease(ILogger logger, string channel, TimeSpan interval);

        [LoggerMessage(ChannelEventId.ILinkLeaseAcquired, LogLevel.Information, "{Channel}: this process now polls the bot (lease taken)")]
        public static partial void LeaseAcquired(ILogger logger, string channel);

        [LoggerMessage(ChannelEventId.ILinkLeaseLost, LogLevel.Warning, "{Channel}: the poller's lease was taken by another process; polling stopped here")]
        public static partial void LeaseLost(ILogger logger, string channel);

        [LoggerMessage(ChannelEventId.ILinkPollRetry, LogLevel.Warning, "{Channel}: getupdates failed ({Failures} in a row); polling again in {Delay}")]
        public static partial void PollRetry(ILogger logger, Exception exception, string channel, int failures, TimeSpan delay);

        [LoggerMessage(ChannelEventId.ILinkPollFailed, LogLevel.Error, "{Channel}: the poller failed; starting again")]
        public static partial void PollFailed(ILogger logger, Exception exception, string channel);

        [LoggerMessage(ChannelEventId.ILinkLoginChanged, LogLevel.Information, "{Channel}: the stored login changed; polling with the new one")]
        public static partial void LoginChanged(ILogger logger, string channel);
    }
}
