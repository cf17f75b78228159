using System.Collections.Concurrent;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using WeSeek.Channels.WeChat;
using WeSeek.Channels.WeChatCrypto;
using WeSeek.Messaging;
using WeSeek.Operations;

namespace WeSeek.Channels.OfficialAccount;

/// <summary>
/// One 公众号 as a channel (<c>mp:{name}</c>). A callback is verified (signature or msg_signature, replay
/// window, receiveid), normalised, stored, and only then answered: with the answer itself when the turn
/// finishes within <see cref="OfficialAccountOptions.PassiveReplyBudget"/> (the reply is claimed from the
/// outbox), otherwise <c>success</c>, after which the outbox sends it through the customer-service API.
/// Hostile input gets a 4xx and stores nothing.
/// </summary>
internal sealed partial class OfficialAccountChannel : IChannel, IMediaSource, IDisposable
{
    private readonly string _name;
    private readonly OfficialAccountSettings _account;
    private readonly OfficialAccountOptions _options;
    private readonly WeChatMessageCrypto? _crypto;
    private readonly IReplyClaims _claims;
    private readonly OfficialAccountApiClient _api;
    private readonly CancellationTokenSource _stopping = new();
    private readonly TimeProvider _time;
    private readonly ReplyInstruments _replies;
    private readonly WeChatReplayCache _replays;
    private readonly OfficialAccountCallbackProtocol _protocol;
    private readonly ILogger _logger;
    // Deliveries seen per message id, for PassiveOnly's "answer on the last delivery"; bounded by pruning.
    private readonly ConcurrentDictionary<string, (int Count, DateTimeOffset First)> _deliveries = new(StringComparer.Ordinal);
    private IInboundSink? _sink;

    public OfficialAccountChannel(string name, OfficialAccountSettings account, OfficialAccountOptions options, IReplyClaims claims, OfficialAccountApiClient api, ReplyInstruments replies, TimeProvider time, ILogger logger)
    {
        _replies = replies;
        _name = name;
        _account = account;
        _options = options;
        _crypto = string.IsNullOrEmpty(account.EncodingAesKey) ? null : new WeChatMessageCrypto(account.Token, account.EncodingAesKey, account.AppId);
        _claims = claims;
        _api = api;
        _time = time;
        _replays = new WeChatReplayCache(time, options.TimestampToleranceSeconds);
        _logger = logger;
        Id = ChannelId.From("mp:" + name);
        _protocol = new OfficialAccountCallbackProtocol(Id, name, account, _crypto);
        Capabilities = new ChannelCapabilities
        {
            MaxTextBytes = 2048,
            // 客服 allows five messages per user message (45047 after); a passive-only account has one reply.
            MaxMessagesPerTrigger = account.ReplyMode == ReplyMode.PassiveOnly ? 1 : 5,
            // A subscription account has no API to send with: its replies wait for the user's next message.
            Push = account.ReplyMode != ReplyMode.PassiveOnly,
        };
    }

    public ChannelId Id { get; }

    public ChannelCapabilities Capabilities { get; }

    public Task StartAsync(IInboundSink sink, CancellationToken cancellationToken)
    {
        _sink = sink;
        return Task.CompletedTask;
    }

    public void Dispose() => _stopping.Dispose();

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _sink = null;
        // Typing renewals end with the channel.
        await _stopping.CancelAsync();
    }

    public Task<MediaContent> DownloadAsync(InboundMessage message, MediaAttachment attachment, long maxBytes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(attachment);
        return attachment.MediaId is { Length: > 0 } mediaId
            ? _api.DownloadMediaAsync(_options.ApiBaseUrl, _account, mediaId, maxBytes, cancellationToken)
            : throw new MediaUnavailableException("The message names no MediaId.");
    }

    public async Task<SendReceipt> SendAsync(OutboundMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (_account.ReplyMode == ReplyMode.PassiveOnly)
        {
            // Not reached (Capabilities.Push is false, so the sender leaves these replies to be claimed).
            throw new ChannelSendException("This account answers passively only; the reply waits for the user's next message.", isPermanent: false);
        }

        try
        {
            await _api.SendTextAsync(_options.ApiBaseUrl, _account, message.ChatId, message.Text, cancellationToken);
            return new SendReceipt(null);
        }
        catch (WeChatApiException ex)
        {
            Log.SendFailed(_logger, Id.Value, ex.ErrorCode);
            // 45015: 48-hour window closed or unfollowed; 45047: quota of this trigger spent; 43004/40003: not a
            // follower; 48001: no 客服 permission. Retrying cannot help; anything else backs off.
            throw new ChannelSendException(ex.Message, isPermanent: ex.ErrorCode is 45015 or 45047 or 43004 or 40003 or 48001 or 45002, ex);
        }
    }

    /// <summary>URL verification (GET): 3-field signature, then the raw <c>echostr</c>. Without <c>echostr</c> the
    /// request is malformed (400), as on 企业微信: there is nothing to echo, and WeChat always sends one.</summary>
    public IResult Verify(HttpRequest request)
    {
        var q = request.Query;
        if (!WeChatCallback.IsFresh(q["timestamp"], _options.TimestampToleranceSeconds, _time.GetUtcNow()))
        {
            return Reject("stale or missing timestamp", StatusCodes.Status403Forbidden);
        }

        if (q["echostr"].ToString().Length == 0)
        {
            return Reject("no echostr", StatusCodes.Status400BadRequest);
        }

        if (!WeChatSignature.Verify(q["signature"], _account.Token, q["timestamp"].ToString(), q["nonce"].ToString()))
        {
            return Reject("bad signature", StatusCodes.Status403Forbidden);
        }

        return Results.Text(q["echostr"].ToString(), "text/plain");
    }

    /// <summary>A message or event (POST).</summary>
    public async Task<IResult> ReceiveAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        var (read, reason, status) = await WeChatCallbackReader.ReadAsync(
            request, _protocol, _replays, _sink, _options.TimestampToleranceSeconds, _options.MaxBodyBytes, _time.GetUtcNow(), cancellationToken);
        if (read is null)
        {
            return status == StatusCodes.Status503ServiceUnavailable ? Results.StatusCode(status) : Reject(reason, status);
        }

        var (message, fields, sink, nonce, encrypted) = read;
        var delivery = CountDelivery(message.ExternalMessageId);
        var accountId = fields.TryGetValue("ToUserName", out var gh) ? gh : "";
        if (_account.ReplyMode == ReplyMode.PassiveOnly && delivery == 1 && message.Kind != MessageKind.Other)
        {
            // "回复任意文字获取回答": a message while an answer waits fetches that answer. It is a fetch, not a
            // question, so it is not stored.
            var waiting = await _claims.ClaimAsync(Id, _name, message.ChatId, 1, cancellationToken);
            if (waiting.Count > 0)
            {
                return Reply(message.ChatId, accountId, waiting[0].Text, encrypted, nonce);
            }
        }

        var lastDelivery = delivery >= _options.Deliveries;
        var budget = _account.ReplyMode == ReplyMode.PassiveOnly && !lastDelivery
            // Hold this delivery past WeChat's 5 s so that it retries; its disconnect cancels the wait.
            ? _options.PassiveReplyBudget + TimeSpan.FromSeconds(5)
            : _options.PassiveReplyBudget;
        // The inbox holds the replies from the moment it stores the message, so a fast turn cannot be sent
        // through the API before this request starts waiting for it.
        var passive = message.Kind != MessageKind.Other && (budget > TimeSpan.Zero || _account.ReplyMode == ReplyMode.PassiveOnly);
        var accepted = await sink.AcceptAsync(message with { PassiveReplyWindow = passive ? budget : null }, cancellationToken);
        if (!accepted.IsAccepted)
        {
            return Reject(accepted.Reason ?? "refused by the inbox", StatusCodes.Status400BadRequest);
        }

        Log.Stored(_logger, Id.Value, accepted.InboxId, delivery);
        if (message.Kind == MessageKind.Other)
        {
            return Success();
        }

        if (_account.Typing && _account.ReplyMode == ReplyMode.CustomerService && accepted.Outcome == AcceptOutcome.Stored)
        {
            // Not awaited: the callback's answer never waits on a call to WeChat's API.
            _ = TypeOnceAsync(accepted.InboxId, message.ChatId, message.SentAt, _time.GetTimestamp());
        }

        if (!passive)
        {
            // Passive replies turned off: the API delivers the answer.
            return Success();
        }

        IReadOnlyList<OutboundMessage> claimed;
        try
        {
            claimed = await _claims.WaitAndClaimAsync(accepted.InboxId, Id, _name, message.ChatId, 1, budget, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return Success();
        }

        if (claimed.Count > 0)
        {
            Log.Passive(_logger, Id.Value, accepted.InboxId);
            return Reply(message.ChatId, accountId, claimed[0].Text, encrypted, nonce);
        }

        if (_account.ReplyMode == ReplyMode.PassiveOnly)
        {
            Log.Placeholder(_logger, Id.Value, accepted.InboxId, delivery);
            return Reply(message.ChatId, accountId, _account.PendingReplyText, encrypted, nonce);
        }

        return Success();
    }

    /// <summary>WeChat refuses typing this long after the user's message (45080).</summary>
    private static readonly TimeSpan TypingWindow = TimeSpan.FromSeconds(30);

    /// <summary>
    /// "对方正在输入" while the model thinks, by WeChat's rules: once per message (a renewal inside 15 s is
    /// refused, 45081), only when the turn has not stored its answer within
    /// <see cref="OfficialAccountOptions.TypingDelay"/> (never after the answer), and never 30 s or more after
    /// the user's message (45080). WeChat clears it after 15 s or when the answer arrives.
    /// </summary>
    private async Task TypeOnceAsync(long inboxId, string openId, DateTimeOffset sentAt, long storedAt)
    {
        try
        {
            if (await _claims.WaitForTurnAsync(inboxId, _options.TypingDelay, _stopping.Token)
                || _time.GetUtcNow() - sentAt >= TypingWindow)
            {
                return;
            }

            await _api.TypingAsync(_options.ApiBaseUrl, _account, openId, typing: true, _stopping.Token);
            _replies.RecordTyping(_time.GetElapsedTime(storedAt), Id.Value);
        }
        catch (WeChatApiException ex) when (ex.ErrorCode is 45080 or 45081)
        {
            // WeChat's "too late" (45080) and "already typing" (45081): stop typing for this message.
            Log.TypingRefused(_logger, Id.Value, ex.ErrorCode);
        }
        catch (Exception ex) when (ex is WeChatApiException or HttpRequestException or OperationCanceledException)
        {
            // Typing is a courtesy; never fail a message for it.
        }
    }

    private int CountDelivery(string externalId)
    {
        var now = _time.GetUtcNow();
        if (_deliveries.Count > 10_000)
        {
            foreach (var old in _deliveries.Where(p => now - p.Value.First > TimeSpan.FromMinutes(1)).Select(p => p.Key).ToList())
            {
                _deliveries.TryRemove(old, out _);
            }
        }

        return _deliveries.AddOrUpdate(externalId, _ => (1, now), (_, seen) => now - seen.First > TimeSpan.FromMinutes(1) ? (1, now) : (seen.Count + 1, seen.First)).Count;
    }

    private IResult Reply(string openId, string accountId, string text, bool encrypted, string nonce)
    {
        var now = _time.GetUtcNow();
        var xml = OfficialAccountMessageMapper.TextReply(openId, accountId, text, now);
        return Results.Text(encrypted ? _crypto!.EncryptReply(xml, WeChatCallback.UnixSeconds(now), nonce) : xml, "application/xml");
    }

    // "success" needs no encryption even in safe mode, and tells WeChat not to retry.
    private static IResult Success() => Results.Text("success", "text/plain");

    private IResult Reject(string reason, int status)
    {
        Log.Rejected(_logger, Id.Value, reason, status);
        return Results.StatusCode(status);
    }

    private static partial class Log
    {
        [LoggerMessage(ChannelEventId.CallbackRejected, LogLevel.Warning, "Callback to {Channel} rejected ({Reason}): {Status}")]
        public static partial void Rejected(ILogger logger, string channel, string reason, int status);

        [LoggerMessage(ChannelEventId.CallbackStored, LogLevel.Debug, "Callback to {Channel} stored as message {InboxId} (delivery {Delivery})")]
        public static partial void Stored(ILogger logger, string channel, long inboxId, int delivery);

        [LoggerMessage(ChannelEventId.PassiveReply, LogLevel.Debug, "Answered message {InboxId} on {Channel} in the callback (passive reply)")]
        public static partial void Passive(ILogger logger, string channel, long inboxId);

        [LoggerMessage(ChannelEventId.PendingReplyPlaceholder, LogLevel.Information, "Message {InboxId} on {Channel} not answered by delivery {Delivery}; sent the placeholder")]
        public static partial void Placeholder(ILogger logger, string channel, long inboxId, int delivery);

        [LoggerMessage(ChannelEventId.TypingRefused, LogLevel.Debug, "{Channel}: WeChat refused the typing status (errcode {ErrorCode}); no more typing for this message")]
        public static partial void TypingRefused(ILogger logger, string channel, int errorCode);

        [LoggerMessage(ChannelEventId.ApiSendFailed, LogLevel.Warning, "Sending through {Channel}'s API failed with errcode {ErrorCode}")]
        public static partial void SendFailed(ILogger logger, string channel, int errorCode);
    }
}
