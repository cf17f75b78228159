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
/// A personal WeChat account through iLink (<c>ilink:{account}</c>). One long-poll loop per process, and only
/// in the process that holds the bot token's lease: each batch of <c>getupdates</c> is stored in the inbox
/// message by message, and only then is the new cursor saved, before the next poll; a crash in between
/// re-reads the batch, which the inbox recognises by message id. Replies echo the chat's latest
/// <c>context_token</c> with a client id derived from the outbox row, so a retried send cannot show twice,
/// and stay within the token's send budget and lifetime. <c>errcode -14</c> stops the loop and tells the
/// operator to scan again; the loop resumes by itself when a new login is stored.
/// </summary>
internal sealed partial class ILinkChannel : IChannel, IAsyncDisposable
{
    private readonly ILinkOptions _options;
    private readonly ILinkApiClient _api;
    private readonly ILinkState _state;
    private readonly ILinkState? _backup;
    private readonly IChannelLease _lease;
    private readonly IOperatorNotices _notices;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ILinkMetrics _metrics;
    private readonly string _owner = LeaseOwners.ForThisProcess();
    private readonly ILinkTyping _typing;
    private CancellationTokenSource? _stopping;
    private Task _poller = Task.CompletedTask;
    private IInboundSink? _sink;
    private volatile ILinkSession? _session;
    private int _expiring;
    private string? _salt;
    private TimeSpan _pollTimeout;

    public ILinkChannel(ILinkOptions options, ILinkApiClient api, IChannelStateStore store, IChannelLease lease, IOperatorNotices notices, ILinkMetrics metrics, ReplyInstruments replies, TimeProvider time, ILogger logger)
    {
        _metrics = metrics;
        _options = options;
        _api = api;
        _lease = lease;
        _notices = notices;
        _time = time;
        _logger = logger;
        Id = ChannelId.From(options.ChannelName);
        _typing = new ILinkTyping(api, options, replies, time, logger, Id);
        _state = new ILinkState(store, Id);
        _backup = string.IsNullOrEmpty(options.BackupAccount) ? null : new ILinkState(store, ChannelId.From("ilink:" + options.BackupAccount));
        _pollTimeout = options.LongPollTimeout;
        Capabilities = new ChannelCapabilities
        {
            MaxTextLength = options.MaxTextLength,
            // iLink counts characters, not bytes (anchors.md §4.1).
            MaxTextBytes = 0,
            MaxMessagesPerTrigger = options.MaxSendsPerContextToken,
        };
    }

    public ChannelId Id { get; }

    public ChannelCapabilities Capabilities { get; }

    /// <summary>Where the poller is; for the console and tests.</summary>
    public ILinkPollerState State { get; private set; }

    public Task StartAsync(IInboundSink sink, CancellationToken cancellationToken)
    {
        _sink = sink;
        _stopping = new CancellationTokenSource();
        var stopping = _stopping.Token;
        _poller = Task.Run(() => RunAsync(stopping), CancellationToken.None);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        // Idempotent: the host stops the channel, then the container disposes it (once per registration).
        if (Interlocked.Exchange(ref _stopping, null) is { } stopping)
        {
            await stopping.CancelAsync();
            await _poller.WaitAsync(cancellationToken).ContinueWith(static _ => { }, TaskScheduler.Default);
            stopping.Dispose();
        }

        _typing.StopAll();

        _sink = null;
        State = ILinkPollerState.Stopped;
    }

    public ValueTask DisposeAsync() => new(StopAsync(CancellationToken.None));

    private async Task RunAsync(CancellationToken stopping)
    {
        var announced = false;
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                if (await ActiveSessionAsync(stopping) is not var (session, account))
                {
                    if (State != ILinkPollerState.SessionExpired && !announced)
                    {
                        State = ILinkPollerState.NotLoggedIn;
                        Log.NotLoggedIn(_logger, Id.Value);
                        _notices.Add($"微信 (iLink) {Id.Value} is not logged in: run `weseek login weixin` and scan the QR code.");
                        announced = true;
                    }

                    // A login from another process (the CLI verb) lands in the store; look again now and then.
                    await Task.Delay(_options.LeaseRetryInterval, _time, stopping);
                    continue;
                }

                if (account != _state)
                {
                    Log.BackupActive(_logger, Id.Value, _options.BackupAccount!);
                    _notices.Add($"微信 (iLink) {Id.Value}: the backup account '{_options.BackupAccount}' answers until the main one is scanned again.");
                }

                _session = session;
                await PollAsync(session, account, stopping);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // The store itself failed (disk full, locked); nothing is lost, the cursor is where it was.
                Log.PollFailed(_logger, ex, Id.Value);
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
                if ((await ActiveSessionAsync(stopping))?.Session.BotToken != session.BotToken)
                {
                    // A new login (here or in another process) replaced this token, another process saw it
                    // expire, or the main account is back from a backup: start over with what the store holds.
                    Log.LoginChanged(_logger, Id.Value);
                    return;
                }

                if (!held)
                {
                    if (!await _lease.TryAcquireAsync(leaseName, _owner, _options.LeaseTtl, stopping))
                    {
                        State = ILinkPollerState.WaitingForLease;
                        if (!waitingLogged)
                        {
                            Log.WaitingForLease(_logger, Id.Value, _options.LeaseRetryInterval);
                            waitingLogged = true;
                        }

                        await Task.Delay(_options.LeaseRetryInterval, _time, stopping);
                        continue;
                    }

                    held = true;
                    waitingLogged = false;
                    Log.LeaseAcquired(_logger, Id.Value);
                }
                else if (!await _lease.RenewAsync(leaseName, _owner, _options.LeaseTtl, stopping))
                {
                    held = false;
                    Log.LeaseLost(_logger, Id.Value);
                    continue;
                }

                State = ILinkPollerState.Polling;
                try
                {
                    await PollOnceAsync(session, account, stopping);
                    failures = 0;
                }
                catch (ILinkApiException ex) when (ex.IsSessionExpired)
                {
                    await ExpireAsync(session, account, stopping);
                    return;
                }
                catch (Exception ex) when (ex is ILinkApiException or HttpRequestException or JsonException or IOException or ILinkInboxException)
                {
                    failures++;
                    var delay = RetryDelay(failures);
                    if (ex is ILinkApiException { IsRateLimited: true })
                    {
                        _metrics.RateLimited.Add(1, new KeyValuePair<string, object?>("operation", "getupdates"));
                        Log.RateLimited(_logger, Id.Value, "getupdates", delay);
                    }
                    else
                    {
                        Log.PollRetry(_logger, ex, Id.Value, failures, delay);
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
            await AcceptAsync(message, stopping);
        }

        // Only now, with the whole batch durable, may the cursor move: a crash before this line re-reads the
        // batch (the inbox drops what it already has); a crash after it loses nothing.
        if (!string.IsNullOrEmpty(reply.GetUpdatesBuf) && reply.GetUpdatesBuf != cursor)
        {
            await account.SetCursorAsync(reply.GetUpdatesBuf, stopping);
        }
    }

    private async Task AcceptAsync(ILinkMessage message, CancellationToken stopping)
    {
        if (ILinkMessageMapper.ToInbound(Id, _options.Account, message) is not { } inbound)
        {
            return;
        }

        _metrics.Received.Add(1);
        if (!string.IsNullOrEmpty(message.ContextToken))
        {
            // Before the inbox: the reply cannot be sent before its token is known.
            await _state.SetContextAsync(inbound.ChatId, new ILinkChatContext(message.ContextToken, _time.GetUtcNow().ToUnixTimeMilliseconds(), 0), stopping);
        }

        var sink = _sink ?? throw new OperationCanceledException(stopping);
        // Typing starts before the inbox call, so that a reply sent faster than this loop continues (a
        // command needs no model) always finds it and ends it.
        var typing = inbound.Kind != MessageKind.Other && _options.Typing && _session is { } session
            && _typing.Start(session, inbound.ChatId, message.ContextToken);
        AcceptResult accepted;
        try
        {
            accepted = await sink.AcceptAsync(inbound, stopping);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            _typing.StopIf(typing, inbound.ChatId);
            throw new ILinkInboxException(ex);
        }
        catch (OperationCanceledException)
        {
            _typing.StopIf(typing, inbound.ChatId);
            throw;
        }

        if (accepted.Outcome != AcceptOutcome.Stored)
        {
            // A duplicate is answered (or being answered) already; a refused message never will be.
            _typing.StopIf(typing, inbound.ChatId);
        }

        if (!accepted.IsAccepted)
        {
            // Refused for good (too long, malformed): skipping it is the only way past it.
            Log.Refused(_logger, Id.Value, accepted.Reason ?? "");
            return;
        }

        Log.Stored(_logger, Id.Value, accepted.InboxId);
    }

    public async Task<SendReceipt> SendAsync(OutboundMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        var session = _session ?? (await ActiveSessionAsync(cancellationToken))?.Session
            ?? throw new ChannelSendException($"{Id.Value} is not logged in; run `weseek login weixin`.", isPermanent: false);
        var context = await _state.GetContextAsync(message.ChatId, cancellationToken);
        var refusal = context is null ? "no context_token for this chat (iLink answers only users who wrote)"
            : _time.GetUtcNow() - DateTimeOffset.FromUnixTimeMilliseconds(context.ReceivedAtMs) > _options.ContextTokenLifetime ? "the context_token expired"
            : context.Sent >= _options.MaxSendsPerContextToken ? $"the context_token's budget of {_options.MaxSendsPerContextToken} messages is spent"
            : null;
        if (refusal is not null)
        {
            _metrics.BudgetExhausted.Add(1);
            Log.OverBudget(_logger, Id.Value, message.OutboxId, refusal);
            throw new ChannelSendException($"Not sent: {refusal}.", isPermanent: true);
        }

        _typing.Stop(message.ChatId);
        _salt ??= await _state.GetClientSaltAsync(cancellationToken);
        var clientId = ClientId(_salt, message);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await _api.SendTextAsync(session, message.ChatId, context!.Token, clientId, message.Text, cancellationToken);
                break;
            }
            catch (ILinkApiException ex) when (ex.IsRateLimited)
            {
                var delay = RetryDelay(attempt);
                _metrics.RateLimited.Add(1, new KeyValuePair<string, object?>("operation", "sendmessage"));
                Log.RateLimited(_logger, Id.Value, "sendmessage", delay);
                if (attempt >= _options.SendAttempts)
                {
                    throw new ChannelSendException("iLink rate limited the send (ret=-2).", isPermanent: false, ex);
                }

                await Task.Delay(delay, _time, cancellationToken);
            }
            catch (ILinkApiException ex) when (ex.IsSessionExpired)
            {
                await ExpireAsync(session, null, cancellationToken);
                throw new ChannelSendException("The iLink session expired; scan again.", isPermanent: false, ex);
            }
            catch (ILinkApiException ex)
            {
                Log.SendFailed(_logger, Id.Value, ex.Ret, ex.ErrorCode);
                throw new ChannelSendException(ex.Message, isPermanent: false, ex);
            }
        }

        await _state.SetContextAsync(message.ChatId, context with { Sent = context.Sent + 1 }, cancellationToken);
        return new SendReceipt(clientId);
    }

    /// <summary>The send's idempotency key: the install's salt, the outbox row and the chunk's position, so a
    /// retry of the same chunk (after a timeout or a crash) carries the same id.</summary>
    internal static string ClientId(string salt, OutboundMessage message) =>
        FormattableString.Invariant($"weseek-{salt}-{message.OutboxId}-{message.Sequence}");

    /// <summary>The main account's session, else the backup's, with the state it keeps its cursor in.</summary>
    private async Task<(ILinkSession Session, ILinkState Account)?> ActiveSessionAsync(CancellationToken cancellationToken)
    {
        if (await _state.GetSessionAsync(_options.BaseUrl, cancellationToken) is { } main)
        {
            return (main, _state);
        }

        return _backup is not null && await _backup.GetSessionAsync(_options.BaseUrl, cancellationToken) is { } backup ? (backup, _backup) : null;
    }

    private async Task ExpireAsync(ILinkSession session, ILinkState? account, CancellationToken cancellationToken)
    {
        if (_session == session)
        {
            _session = null;
        }

        // Once, whether the poll loop or a send saw the -14 first.
        if (State == ILinkPollerState.SessionExpired || Interlocked.Exchange(ref _expiring, 1) == 1)
        {
            return;
        }

        try
        {
            // The dead token is forgotten before anyone is told: whoever sees "expired" (the console, a test)
            // finds no token left to use. Only the account that holds this token forgets it (ExpireAsync compares).
            await _state.ExpireAsync(session.BotToken, cancellationToken);
            if (_backup is not null && account != _state)
            {
                await _backup.ExpireAsync(session.BotToken, cancellationToken);
            }

            State = ILinkPollerState.SessionExpired;
            _metrics.SessionExpired.Add(1);
            Log.SessionExpired(_logger, Id.Value);
            var login = account is not null && account == _backup ? "weseek login weixin --account " + _options.BackupAccount : "weseek login weixin";
            _notices.Add($"微信 (iLink) {Id.Value}: the session expired (errcode -14). Scan again: run `{login}`.");
        }
        finally
        {
            Interlocked.Exchange(ref _expiring, 0);
        }
    }

    // Jittered, so that many bots rate-limited together do not come back together.
    private TimeSpan RetryDelay(int failures) =>
        Backoff.Exponential(_options.RetryDelay, _options.MaxRetryDelay, failures, Random.Shared.NextDouble());

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

        [LoggerMessage(ChannelEventId.ILinkSessionExpired, LogLevel.Error, "{Channel}: the iLink session expired (errcode -14); polling stopped. Scan again: run `weseek login weixin`")]
        public static partial void SessionExpired(ILogger logger, string channel);

        [LoggerMessage(ChannelEventId.ILinkRateLimited, LogLevel.Warning, "{Channel}: iLink rate limited {Operation} (ret=-2); backing off {Delay}")]
        public static partial void RateLimited(ILogger logger, string channel, string operation, TimeSpan delay);

        [LoggerMessage(ChannelEventId.ILinkPollRetry, LogLevel.Warning, "{Channel}: getupdates failed ({Failures} in a row); polling again in {Delay}")]
        public static partial void PollRetry(ILogger logger, Exception exception, string channel, int failures, TimeSpan delay);

        [LoggerMessage(ChannelEventId.ILinkPollFailed, LogLevel.Error, "{Channel}: the poller failed; starting again")]
        public static partial void PollFailed(ILogger logger, Exception exception, string channel);

        [LoggerMessage(ChannelEventId.ILinkStored, LogLevel.Debug, "{Channel}: message stored as {InboxId}")]
        public static partial void Stored(ILogger logger, string channel, long inboxId);

        [LoggerMessage(ChannelEventId.ILinkRefused, LogLevel.Warning, "{Channel}: the inbox refused a message ({Reason}); skipped")]
        public static partial void Refused(ILogger logger, string channel, string reason);

        [LoggerMessage(ChannelEventId.ILinkOverBudget, LogLevel.Warning, "{Channel}: outbox message {OutboxId} not sent: {Reason}")]
        public static partial void OverBudget(ILogger logger, string channel, long outboxId, string reason);

        [LoggerMessage(ChannelEventId.ILinkSendFailed, LogLevel.Warning, "{Channel}: sendmessage failed with ret {Ret}, errcode {ErrorCode}")]
        public static partial void SendFailed(ILogger logger, string channel, int ret, int errorCode);

        [LoggerMessage(ChannelEventId.ILinkLoginChanged, LogLevel.Information, "{Channel}: the stored login changed; polling with the new one")]
        public static partial void LoginChanged(ILogger logger, string channel);

        [LoggerMessage(ChannelEventId.ILinkBackupActive, LogLevel.Warning, "{Channel}: the main account is not logged in; the backup account {Backup} answers")]
        public static partial void BackupActive(ILogger logger, string channel, string backup);

    }
}

/// <summary>The inbox could not store a message of a batch: the batch is polled again, the cursor stays.</summary>
internal sealed class ILinkInboxException : Exception
{
    public ILinkInboxException(Exception inner) : base("The inbox could not store a message: " + inner.Message, inner) { }

    public ILinkInboxException() { }

    public ILinkInboxException(string message) : base(message) { }

    public ILinkInboxException(string message, Exception inner) : base(message, inner) { }
}
