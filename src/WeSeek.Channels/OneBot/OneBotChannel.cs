using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using WeSeek.Messaging;
using WeSeek.Operations;

namespace WeSeek.Channels.OneBot;

/// <summary>
/// A OneBot 12 implementation as a channel (<c>onebot</c>): ComWeChatBotClient for a personal WeChat account,
/// or any QQ implementation. Events arrive as JSON text frames on a WebSocket that the implementation opens
/// to WeSeek (reverse) or WeSeek opens to it (forward); <c>message</c> events go into the inbox by
/// <c>message_id</c>, so a re-delivered event is answered once. Replies are <c>send_message</c> actions on the
/// same socket, correlated by <c>echo</c>; a failed or unanswered action fails the send and the outbox retries.
/// In a group the bot answers only when mentioned, called by the prefix or a keyword, quoting and mentioning the
/// asker. After <c>meta.connect</c> it asks <c>get_self_info</c> for its own id unless configured (events need not
/// carry <c>self</c>); <c>get_status</c> answers <see cref="GetStatusAsync"/> for the health endpoint. In forward
/// mode the connection is held under a lease (<see cref="IChannelLease"/>), so that of several instances on one
/// database exactly one connects to the implementation (and sends), and another takes over when it dies.
/// </summary>
internal sealed partial class OneBotChannel : IChannel, ILeasedChannel, IAsyncDisposable
{
    private const int MaxRemembered = 4096;
    private readonly OneBotOptions _options;
    private readonly IChannelStateStore _store;
    private readonly IChannelLease _lease;
    private readonly string _owner = LeaseOwners.ForThisProcess();
    private volatile bool _leaseHeld;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<long, OneBotInbound> _asked = new();
    private readonly ConcurrentQueue<long> _askedOrder = new();
    private readonly ConcurrentDictionary<OneBotConnection, byte> _connections = new();
    private volatile OneBotConnection? _current;
    private readonly CancellationTokenSource _stopping = new();
    private Task _forward = Task.CompletedTask;
    private IInboundSink? _sink;
    private int _connectionCount;
    private long _ignoredGroupMessages;
    private volatile OneBotStatus? _lastStatus;

    // Groups already logged as not allowed: logged once each, so a busy group off the list does not flood the log.
    private readonly ConcurrentDictionary<string, byte> _ignoredGroups = new(StringComparer.Ordinal);

    public OneBotChannel(OneBotOptions options, IChannelStateStore store, IChannelLease lease, TimeProvider time, ILogger logger)
    {
        _options = options;
        _store = store;
        _lease = lease;
        _time = time;
        _logger = logger;
        Capabilities = new ChannelCapabilities { MaxTextLength = options.MaxTextLength, MaxTextBytes = 0 };
    }

    public static ChannelId ChannelId { get; } = ChannelId.From("onebot");

    public ChannelId Id => ChannelId;

    public ChannelCapabilities Capabilities { get; }

    /// <summary>True in reverse mode (the implementation chooses the instance it connects to), and in forward mode
    /// while this instance holds the connection's lease.</summary>
    public bool HoldsLease => _options.Mode != OneBotMode.Forward || _leaseHeld;

    /// <summary>The lease of the forward connection: one per implementation URL.</summary>
    internal static string LeaseName(Uri forwardUrl) =>
        "onebot:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(forwardUrl.AbsoluteUri)))[..32];

    /// <summary>True while an implementation is connected.</summary>
    public bool IsConnected => _current is { IsOpen: true };

    /// <summary>When the implementation last sent anything (an event, a heartbeat, a response).</summary>
    public DateTimeOffset? LastSeen { get; private set; }

    /// <summary>Connections opened so far (reverse and forward); for the console and tests.</summary>
    public int Connections => Volatile.Read(ref _connectionCount);

    /// <summary>Group messages dropped because their group is not on <see cref="OneBotOptions.AllowedGroups"/>.</summary>
    public long IgnoredGroupMessages => Interlocked.Read(ref _ignoredGroupMessages);

    public Task StartAsync(IInboundSink sink, CancellationToken cancellationToken)
    {
        _sink = sink;
        if (_options.Mode == OneBotMode.Forward)
        {
            var stopping = _stopping.Token;
            _forward = Task.Run(() => RunForwardAsync(stopping), CancellationToken.None);
        }

        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_stopping.IsCancellationRequested)
        {
            return;
        }

        await _stopping.CancelAsync();
        foreach (var connection in _connections.Keys)
        {
            await connection.CloseAsync(WebSocketCloseStatus.EndpointUnavailable, "WeSeek is stopping");
        }

        await _forward.WaitAsync(cancellationToken).ContinueWith(static _ => { }, TaskScheduler.Default);
        _sink = null;
    }

    public ValueTask DisposeAsync() => new(StopAsync(CancellationToken.None));

    /// <summary>Serves one accepted WebSocket until it closes, the heartbeat stops, or WeSeek stops.</summary>
    public async Task RunConnectionAsync(WebSocket socket, string? impl, CancellationToken cancellationToken)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stopping.Token);
        using var connection = new OneBotConnection(socket, impl);
        _connections[connection] = 0;
        _current = connection;
        Interlocked.Increment(ref _connectionCount);
        Log.Connected(_logger, impl ?? "unknown");
        var reason = "closed by the implementation";
        try
        {
            while (!linked.IsCancellationRequested)
            {
                // A receive must not be cancelled for the heartbeat: cancelling a WebSocket receive aborts the
                // socket, and the implementation would get no close frame. It is raced against the silence instead.
                var receiving = connection.ReceiveAsync(linked.Token);
                if (connection.HeartbeatInterval is { } interval)
                {
                    var silence = interval * _options.HeartbeatMisses;
                    using var beat = CancellationTokenSource.CreateLinkedTokenSource(linked.Token);
                    var quiet = Task.Delay(silence, _time, beat.Token);
                    if (await Task.WhenAny(receiving, quiet) == quiet && quiet.IsCompletedSuccessfully)
                    {
                        reason = $"no heartbeat for {silence}";
                        Log.HeartbeatLost(_logger, silence);
                        await connection.CloseAsync(WebSocketCloseStatus.PolicyViolation, "heartbeat timeout");
                        // The pending receive ends with the implementation's close reply or when the socket is disposed.
                        _ = receiving.ContinueWith(static t => t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
                        break;
                    }

                    await beat.CancelAsync();
                }

                var frame = await receiving;
                if (frame is not { } json)
                {
                    break;
                }

                LastSeen = _time.GetUtcNow();
                await HandleAsync(connection, json, linked.Token);
            }
        }
        catch (OperationCanceledException) when (linked.IsCancellationRequested)
        {
            reason = "WeSeek is stopping";
        }
        catch (WebSocketException ex)
        {
            reason = ex.Message;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The inbox failed (disk full, locked): drop the connection; the implementation reconnects.
            reason = "the inbox failed: " + ex.Message;
            await connection.CloseAsync(WebSocketCloseStatus.InternalServerError, "WeSeek could not store the event");
        }
        finally
        {
            _connections.TryRemove(connection, out _);
            if (_current == connection)
            {
                _current = null;
            }

            connection.FailPending();
            Log.Disconnected(_logger, connection.Impl ?? "unknown", reason);
        }
    }

    private async Task HandleAsync(OneBotConnection connection, JsonElement frame, CancellationToken cancellationToken)
    {
        if (frame.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        if (frame.TryGetProperty("status", out _) && OneBotMessageMapper.Str(frame, "echo") is { } echo)
        {
            if (connection.ActionOf(echo) == "get_self_info" && OneBotMessageMapper.Str(frame, "status") == "ok"
                && frame.TryGetProperty("data", out var self) && OneBotMessageMapper.Str(self, "user_id") is { Length: > 0 } selfId)
            {
                // Here, in the receive loop, not in the caller's continuation: the events after this response
                // are read only after the id is known.
                connection.SelfId = selfId;
            }

            connection.Complete(echo, frame);
            return;
        }

        var type = OneBotMessageMapper.Str(frame, "type");
        var detail = OneBotMessageMapper.Str(frame, "detail_type");
        switch (type, detail)
        {
            case ("meta", "connect"):
                if (frame.TryGetProperty("version", out var version) && OneBotMessageMapper.Str(version, "impl") is { } impl)
                {
                    connection.Impl = impl;
                }

                Log.MetaConnect(_logger, connection.Impl ?? "unknown");
                if (_options.SelfId is null)
                {
                    // Not awaited: the response arrives on this same receive loop.
                    _ = LearnSelfIdAsync(connection, cancellationToken);
                }

                break;
            case ("meta", "status_update"):
                if (frame.TryGetProperty("status", out var status))
                {
                    _lastStatus = ReadStatus(status, connection.Impl, _time.GetUtcNow());
                    Log.StatusUpdate(_logger, _lastStatus.Good, _lastStatus.Online);
                }

                break;
            case ("meta", "heartbeat"):
                if (frame.TryGetProperty("interval", out var interval) && interval.ValueKind == JsonValueKind.Number && interval.TryGetDouble(out var ms) && ms > 0)
                {
                    connection.HeartbeatInterval = TimeSpan.FromMilliseconds(ms);
                }

                break;
            case ("message", _):
                await AcceptAsync(connection, frame, cancellationToken);
                break;
            default:
                Log.Ignored(_logger, type ?? "", detail ?? "");
                break;
        }
    }

    private bool GroupAllowed(string groupId) =>
        _options.AllowedGroups.Count == 0 || _options.AllowedGroups.Contains(groupId, StringComparer.Ordinal);

    private async Task AcceptAsync(OneBotConnection connection, JsonElement frame, CancellationToken cancellationToken)
    {
        var selfId = _options.SelfId
            ?? (frame.TryGetProperty("self", out var self) ? OneBotMessageMapper.Str(self, "user_id") : null)
            ?? connection.SelfId;
        if (OneBotMessageMapper.ToInbound(Id, frame, selfId, _options.GroupPrefix, _time.GetUtcNow(), _options.GroupKeywords) is not { } mapped)
        {
            Log.Ignored(_logger, "message", OneBotMessageMapper.Str(frame, "detail_type") ?? "");
            return;
        }

        if (mapped.Message.IsGroup && !GroupAllowed(mapped.Message.ChatId))
        {
            Interlocked.Increment(ref _ignoredGroupMessages);
            if (_ignoredGroups.Count < MaxRemembered && _ignoredGroups.TryAdd(mapped.Message.ChatId, 0))
            {
                Log.GroupNotAllowed(_logger, mapped.Message.ChatId);
            }

            return;
        }

        var sink = _sink;
        if (sink is null)
        {
            return;
        }

        var inbound = mapped.Message;
        if (inbound.Kind != MessageKind.Other)
        {
            // Before the inbox: a reply cannot be sent before its chat's kind and asker are known, even after a restart.
            await _store.SetAsync(Id, "chat:" + inbound.ChatId, JsonSerializer.Serialize(new ChatRecord(inbound.IsGroup, mapped.MessageId, mapped.UserId)), cancellationToken);
        }

        var accepted = await sink.AcceptAsync(inbound, cancellationToken);
        if (!accepted.IsAccepted)
        {
            Log.Refused(_logger, accepted.Reason ?? "");
            return;
        }

        if (accepted.Outcome == AcceptOutcome.Stored && _asked.TryAdd(accepted.InboxId, mapped))
        {
            _askedOrder.Enqueue(accepted.InboxId);
            while (_askedOrder.Count > MaxRemembered && _askedOrder.TryDequeue(out var old))
            {
                _asked.TryRemove(old, out _);
            }
        }

        Log.Stored(_logger, inbound.ChatId, accepted.InboxId, inbound.Kind == MessageKind.Other);
    }

    public async Task<SendReceipt> SendAsync(OutboundMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        var connection = _current;
        if (connection is not { IsOpen: true })
        {
            throw new ChannelSendException("No OneBot implementation is connected.", isPermanent: false);
        }

        (string MessageId, string UserId)? quote = null;
        bool isGroup;
        if (_asked.TryGetValue(message.InboxId, out var asked))
        {
            quote = (asked.MessageId, asked.UserId);
            isGroup = asked.Message.IsGroup;
        }
        else if (await _store.GetAsync(Id, "chat:" + message.ChatId, cancellationToken) is { } stored
            && JsonSerializer.Deserialize<ChatRecord>(stored) is { } chat)
        {
            isGroup = chat.IsGroup;
            quote = (chat.MessageId, chat.UserId);
        }
        else
        {
            isGroup = false;
        }

        // The first part of an answer quotes the question; the rest follow it.
        var parameters = OneBotMessageMapper.SendMessageParams(isGroup, message.ChatId, message.Text, message.Sequence == 0 ? quote : null);
        JsonElement response;
        try
        {
            response = await connection.CallAsync("send_message", parameters, _options.ActionTimeout, _time, cancellationToken);
        }
        catch (TimeoutException ex)
        {
            Log.SendFailed(_logger, message.OutboxId, "no response within " + _options.ActionTimeout);
            throw new ChannelSendException($"send_message got no response within {_options.ActionTimeout}.", isPermanent: false, ex);
        }
        catch (WebSocketException ex)
        {
            Log.SendFailed(_logger, message.OutboxId, ex.Message);
            throw new ChannelSendException("The OneBot connection failed during send_message: " + ex.Message, isPermanent: false, ex);
        }

        if (OneBotMessageMapper.Str(response, "status") != "ok")
        {
            var detail = $"retcode {OneBotMessageMapper.Str(response, "retcode")}: {OneBotMessageMapper.Str(response, "message")}";
            Log.SendFailed(_logger, message.OutboxId, detail);
            throw new ChannelSendException("send_message failed, " + detail, isPermanent: false);
        }

        var id = response.TryGetProperty("data", out var data) ? OneBotMessageMapper.Str(data, "message_id") : null;
        return new SendReceipt(id);
    }

    /// <summary>
    /// Asks the connected implementation <c>get_status</c> (correlated by <c>echo</c>, at most
    /// <see cref="OneBotOptions.ActionTimeout"/>). Never throws for the implementation's sake: not connected, no
    /// answer, or a failed action is a status that says so.
    /// </summary>
    public async Task<OneBotStatus> GetStatusAsync(CancellationToken cancellationToken)
    {
        var connection = _current;
        if (connection is not { IsOpen: true })
        {
            return new OneBotStatus(Connected: false, Responded: false, Good: false, Online: false, connection?.Impl, LastSeen);
        }

        try
        {
            var response = await connection.CallAsync("get_status", new JsonObject(), _options.ActionTimeout, _time, cancellationToken);
            if (OneBotMessageMapper.Str(response, "status") != "ok" || !response.TryGetProperty("data", out var data))
            {
                Log.ActionFailed(_logger, "get_status", $"retcode {OneBotMessageMapper.Str(response, "retcode")}");
                return new OneBotStatus(Connected: true, Responded: true, Good: false, Online: false, connection.Impl, LastSeen);
            }

            return _lastStatus = ReadStatus(data, connection.Impl, LastSeen);
        }
        catch (TimeoutException)
        {
            Log.ActionFailed(_logger, "get_status", "no response within " + _options.ActionTimeout);
            return new OneBotStatus(Connected: true, Responded: false, Good: false, Online: false, connection.Impl, LastSeen);
        }
        catch (WebSocketException ex)
        {
            Log.ActionFailed(_logger, "get_status", ex.Message);
            return new OneBotStatus(Connected: false, Responded: false, Good: false, Online: false, connection.Impl, LastSeen);
        }
    }

    /// <summary>The last status the implementation reported (<c>meta.status_update</c> or <c>get_status</c>); null before any.</summary>
    public OneBotStatus? LastStatus => _lastStatus;

    // OneBot 12 status: {"good": bool, "bots": [{"self": {...}, "online": bool}]}; online when every bot is.
    private static OneBotStatus ReadStatus(JsonElement status, string? impl, DateTimeOffset? lastSeen)
    {
        var good = status.TryGetProperty("good", out var g) && g.ValueKind == JsonValueKind.True;
        var online = status.TryGetProperty("bots", out var bots) && bots.ValueKind == JsonValueKind.Array && bots.GetArrayLength() > 0
            && bots.EnumerateArray().All(b => b.TryGetProperty("online", out var o) && o.ValueKind == JsonValueKind.True);
        return new OneBotStatus(Connected: true, Responded: true, good, online, impl, lastSeen);
    }

    private async Task LearnSelfIdAsync(OneBotConnection connection, CancellationToken cancellationToken)
    {
        try
        {
            var response = await connection.CallAsync("get_self_info", new JsonObject(), _options.ActionTimeout, _time, cancellationToken);
            if (connection.SelfId is not null)
            {
                Log.SelfInfo(_logger, connection.Impl ?? "unknown");
                return;
            }

            Log.ActionFailed(_logger, "get_self_info", $"retcode {OneBotMessageMapper.Str(response, "retcode")}");
        }
        catch (TimeoutException)
        {
            Log.ActionFailed(_logger, "get_self_info", "no response within " + _options.ActionTimeout);
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The connection closed first; the next one asks again.
        }
    }

    private async Task RunForwardAsync(CancellationToken stopping)
    {
        var leaseName = LeaseName(_options.ForwardUrl!);
        var failures = 0;
        var waitingLogged = false;
        try
        {
            while (!stopping.IsCancellationRequested)
            {
                try
                {
                    if (!await HoldLeaseAsync(leaseName, stopping))
                    {
                        if (!waitingLogged)
                        {
                            Log.WaitingForLease(_logger, _options.LeaseRetryInterval);
                            waitingLogged = true;
                        }

                        await Task.Delay(_options.LeaseRetryInterval, _time, stopping);
                        continue;
                    }

                    waitingLogged = false;
                    using var socket = new ClientWebSocket();
                    if (!string.IsNullOrEmpty(_options.AccessToken))
                    {
                        socket.Options.SetRequestHeader("Authorization", "Bearer " + _options.AccessToken);
                    }

                    await socket.ConnectAsync(_options.ForwardUrl!, stopping);
                    failures = 0;
                    using var held = CancellationTokenSource.CreateLinkedTokenSource(stopping);
                    var renewing = RenewWhileConnectedAsync(leaseName, held);
                    try
                    {
                        await RunConnectionAsync(socket, null, held.Token);
                    }
                    finally
                    {
                        await held.CancelAsync();
                        await renewing;
                    }

                    if (!_leaseHeld)
                    {
                        // Another instance holds the connection now: wait for the lease, not for a backoff.
                        continue;
                    }
                }
                catch (OperationCanceledException) when (stopping.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception ex) when (ex is WebSocketException or HttpRequestException or IOException)
                {
                    Log.ConnectFailed(_logger, _options.ForwardUrl!.GetLeftPart(UriPartial.Path), ex.Message);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // The lease store failed (the database went away): try again after the backoff.
                    Log.ConnectFailed(_logger, _options.ForwardUrl!.GetLeftPart(UriPartial.Path), "the lease could not be read: " + ex.Message);
                }

                failures++;
                try
                {
                    await Task.Delay(ReconnectDelay(failures), _time, stopping);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
        finally
        {
            if (_leaseHeld)
            {
                _leaseHeld = false;
                try
                {
                    // Another instance need not wait for the lease to run out.
                    await _lease.ReleaseAsync(leaseName, _owner, CancellationToken.None);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    Log.ConnectFailed(_logger, _options.ForwardUrl!.GetLeftPart(UriPartial.Path), "the lease could not be released: " + ex.Message);
                }
            }
        }
    }

    /// <summary>Takes the forward connection's lease, or renews it when held; false when another instance holds it.</summary>
    private async Task<bool> HoldLeaseAsync(string leaseName, CancellationToken stopping)
    {
        if (_leaseHeld)
        {
            if (await _lease.RenewAsync(leaseName, _owner, _options.LeaseTtl, stopping))
            {
                return true;
            }

            _leaseHeld = false;
            Log.LeaseLost(_logger);
            return false;
        }

        if (!await _lease.TryAcquireAsync(leaseName, _owner, _options.LeaseTtl, stopping))
        {
            return false;
        }

        _leaseHeld = true;
        Log.LeaseAcquired(_logger);
        return true;
    }

    /// <summary>Renews the lease every third of its time while the connection is open; when it is lost (another
    /// instance took it after it ran out), closes the connection here by cancelling <paramref name="held"/>.</summary>
    private async Task RenewWhileConnectedAsync(string leaseName, CancellationTokenSource held)
    {
        var token = held.Token;
        try
        {
            while (!token.IsCancellationRequested)
            {
                await Task.Delay(_options.LeaseTtl / 3, _time, token);
                try
                {
                    if (!await HoldLeaseAsync(leaseName, token))
                    {
                        await held.CancelAsync();
                        return;
                    }
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // The database is away: no other instance can take the lease meanwhile; try again.
                    Log.ConnectFailed(_logger, _options.ForwardUrl!.GetLeftPart(UriPartial.Path), "the lease could not be renewed: " + ex.Message);
                }
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
        }
    }

    // Jittered, so that several WeSeeks do not reconnect in step.
    private TimeSpan ReconnectDelay(int failures) =>
        Backoff.Exponential(_options.ReconnectDelay, _options.MaxReconnectDelay, failures, Random.Shared.NextDouble());

    private sealed record ChatRecord(bool IsGroup, string MessageId, string UserId);

    private static partial class Log
    {
        [LoggerMessage(ChannelEventId.OneBotConnected, LogLevel.Information, "OneBot: implementation {Impl} connected")]
        public static partial void Connected(ILogger logger, string impl);

        [LoggerMessage(ChannelEventId.OneBotDisconnected, LogLevel.Warning, "OneBot: implementation {Impl} disconnected ({Reason})")]
        public static partial void Disconnected(ILogger logger, string impl, string reason);

        [LoggerMessage(ChannelEventId.OneBotMetaConnect, LogLevel.Information, "OneBot: meta.connect from {Impl}")]
        public static partial void MetaConnect(ILogger logger, string impl);

        [LoggerMessage(ChannelEventId.OneBotHeartbeatLost, LogLevel.Warning, "OneBot: no heartbeat for {Silence}; closing the connection")]
        public static partial void HeartbeatLost(ILogger logger, TimeSpan silence);

        [LoggerMessage(ChannelEventId.OneBotIgnored, LogLevel.Debug, "OneBot: event {Type}.{DetailType} ignored")]
        public static partial void Ignored(ILogger logger, string type, string detailType);

        [LoggerMessage(ChannelEventId.OneBotStored, LogLevel.Debug, "OneBot: message in chat {ChatId} stored as {InboxId} (record only: {RecordOnly})")]
        public static partial void Stored(ILogger logger, string chatId, long inboxId, bool recordOnly);

        [LoggerMessage(ChannelEventId.OneBotRefused, LogLevel.Warning, "OneBot: the inbox refused a message ({Reason})")]
        public static partial void Refused(ILogger logger, string reason);

        [LoggerMessage(ChannelEventId.OneBotSendFailed, LogLevel.Warning, "OneBot: send_message for outbox message {OutboxId} failed: {Reason}")]
        public static partial void SendFailed(ILogger logger, long outboxId, string reason);

        [LoggerMessage(ChannelEventId.OneBotGroupNotAllowed, LogLevel.Debug, "OneBot: group {GroupId} is not on OneBot:AllowedGroups; its messages are dropped (logged once)")]
        public static partial void GroupNotAllowed(ILogger logger, string groupId);

        [LoggerMessage(ChannelEventId.OneBotSelfInfo, LogLevel.Information, "OneBot: {Impl} told the bot's own id (get_self_info); mentions of it are recognised")]
        public static partial void SelfInfo(ILogger logger, string impl);

        [LoggerMessage(ChannelEventId.OneBotActionFailed, LogLevel.Warning, "OneBot: action {Action} failed: {Reason}")]
        public static partial void ActionFailed(ILogger logger, string action, string reason);

        [LoggerMessage(ChannelEventId.OneBotStatusUpdate, LogLevel.Debug, "OneBot: status update (good: {Good}, online: {Online})")]
        public static partial void StatusUpdate(ILogger logger, bool good, bool online);

        [LoggerMessage(ChannelEventId.OneBotConnectFailed, LogLevel.Warning, "OneBot: connecting to {Url} failed: {Reason}")]
        public static partial void ConnectFailed(ILogger logger, string url, string reason);

        [LoggerMessage(ChannelEventId.OneBotWaitingForLease, LogLevel.Information, "OneBot: another instance holds the forward connection; waiting for its lease (trying every {Interval})")]
        public static partial void WaitingForLease(ILogger logger, TimeSpan interval);

        [LoggerMessage(ChannelEventId.OneBotLeaseAcquired, LogLevel.Information, "OneBot: this instance now holds the forward connection (lease taken)")]
        public static partial void LeaseAcquired(ILogger logger);

        [LoggerMessage(ChannelEventId.OneBotLeaseLost, LogLevel.Warning, "OneBot: the forward connection's lease was taken by another instance; disconnecting here")]
        public static partial void LeaseLost(ILogger logger);
    }
}
