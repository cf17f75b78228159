using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using WeSeek.Channels.WeChat;
using WeSeek.Channels.WeChatCrypto;
using WeSeek.Messaging;

namespace WeSeek.Channels.WeCom;

/// <summary>
/// One 企业微信 self-built app as a channel (<c>wecom:{name}</c>). Every callback is encrypted (WeCom has no plain
/// mode): msg_signature, replay window, decryption and receiveid = CorpID are checked, the message is
/// normalised, stored, and only then answered: with the encrypted answer when the turn finishes within
/// <see cref="WeComOptions.PassiveReplyBudget"/> (claimed from the outbox), otherwise an empty 200, after which
/// the outbox sends it through <c>message/send</c>. Hostile input gets a 4xx and stores nothing.
/// </summary>
internal sealed partial class WeComChannel : IChannel, IMediaSource
{
    private static readonly UTF8Encoding Utf8NoBom = new(false);

    private readonly string _name;
    private readonly WeComAppSettings _app;
    private readonly WeComOptions _options;
    private readonly WeChatMessageCrypto _crypto;
    private readonly IReplyClaims _claims;
    private readonly WeComApiClient _api;
    private readonly TimeProvider _time;
    private readonly WeChatReplayCache _replays;
    private readonly WeComCallbackProtocol _protocol;
    private readonly ILogger _logger;
    private IInboundSink? _sink;

    public WeComChannel(string name, WeComAppSettings app, WeComOptions options, IReplyClaims claims, WeComApiClient api, TimeProvider time, ILogger logger)
    {
        _name = name;
        _app = app;
        _options = options;
        _crypto = new WeChatMessageCrypto(app.Token, app.EncodingAesKey, app.CorpId);
        _claims = claims;
        _api = api;
        _time = time;
        _replays = new WeChatReplayCache(time, options.TimestampToleranceSeconds);
        _logger = logger;
        Id = ChannelId.From("wecom:" + name);
        _protocol = new WeComCallbackProtocol(Id, name, _crypto);
        Capabilities = new ChannelCapabilities
        {
            // message/send truncates text beyond 2,048 UTF-8 bytes (protocols.md §2.2); the composer splits below it.
            MaxTextBytes = 2048,
            // WeCom silently drops more than 30 messages a minute to one member; five per question keeps long
            // answers well inside that and leaves the rest to 「继续」.
            MaxMessagesPerTrigger = 5,
        };
    }

    public ChannelId Id { get; }

    public ChannelCapabilities Capabilities { get; }

    /// <summary>The app's name, as in the callback URL.</summary>
    public string Name => _name;

    public Task StartAsync(IInboundSink sink, CancellationToken cancellationToken)
    {
        _sink = sink;
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _sink = null;
        return Task.CompletedTask;
    }

    public Task<MediaContent> DownloadAsync(InboundMessage message, MediaAttachment attachment, long maxBytes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(attachment);
        return attachment.MediaId is { Length: > 0 } mediaId
            ? _api.DownloadMediaAsync(_options.ApiBaseUrl, _app, mediaId, maxBytes, cancellationToken)
            : throw new MediaUnavailableException("The message names no MediaId.");
    }

    public async Task<SendReceipt> SendAsync(OutboundMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        try
        {
            await _api.SendTextAsync(_options.ApiBaseUrl, _app, message.ChatId, message.Text, _options.DuplicateCheckSeconds, cancellationToken);
            return new SendReceipt(null);
        }
        catch (WeChatApiException ex)
        {
            Log.SendFailed(_logger, Id.Value, ex.ErrorCode);
            throw new ChannelSendException(ex.Message, IsPermanent(ex.ErrorCode), ex);
        }
    }

    /// <summary>
    /// True for errors that retrying cannot help: 45009 (the app's API or per-member frequency limit; WeCom
    /// drops what is over it), 45015/45047 (reply-window and per-trigger limits, as on 公众号), 81013 (no valid
    /// recipient: the member left or is outside the app's visible range). A token error that survived its one
    /// refresh, −1 (busy), 45033 (too many concurrent calls), 60020 (IP not yet trusted: the operator can fix
    /// it) and the rest back off.
    /// </summary>
    internal static bool IsPermanent(int errorCode) => errorCode is 45009 or 45015 or 45047 or 81013;

    /// <summary>
    /// URL verification (GET): msg_signature over the <b>encrypted</b> echostr, decrypt it, receiveid = CorpID,
    /// answer the bare plaintext (no quotes, BOM or newline). Local work only, well inside WeCom's 1 s.
    /// </summary>
    public IResult Verify(HttpRequest request)
    {
        var (status, plain, reason) = VerifyUrl(_crypto, request.Query, _options.TimestampToleranceSeconds, _time.GetUtcNow());
        return plain is null ? Reject(reason, status) : Results.Text(plain, "text/plain", Utf8NoBom);
    }

    /// <summary>The check behind <see cref="Verify"/>: the plaintext, or the status to answer and why.</summary>
    internal static (int Status, string? Plain, string Reason) VerifyUrl(WeChatMessageCrypto crypto, IQueryCollection query, int toleranceSeconds, DateTimeOffset now)
    {
        var timestamp = query["timestamp"].ToString();
        if (!WeChatCallback.IsFresh(timestamp, toleranceSeconds, now))
        {
            return (StatusCodes.Status403Forbidden, null, "stale or missing timestamp");
        }

        // The query is already URL-decoded; a '+' that arrived unencoded became a space, and Base64 has none.
        var echostr = query["echostr"].ToString().Replace(' ', '+');
        if (echostr.Length == 0)
        {
            return (StatusCodes.Status400BadRequest, null, "no echostr");
        }

        try
        {
            return (StatusCodes.Status200OK, crypto.VerifyAndDecrypt(query["msg_signature"], timestamp, query["nonce"].ToString(), echostr), "");
        }
        catch (WeChatCryptoException ex)
        {
            return (WeChatCallback.StatusOf(ex.Error), null, ex.Error.ToString());
        }
    }

    /// <summary>A message or event (POST), always encrypted.</summary>
    public async Task<IResult> ReceiveAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        var (read, reason, status) = await WeChatCallbackReader.ReadAsync(
            request, _protocol, _replays, _sink, _options.TimestampToleranceSeconds, _options.MaxBodyBytes, _time.GetUtcNow(), cancellationToken);
        if (read is null)
        {
            return status == StatusCodes.Status503ServiceUnavailable ? Results.StatusCode(status) : Reject(reason, status);
        }

        var (message, fields, sink, nonce, _) = read;
        var passive = message.Kind != MessageKind.Other && _options.PassiveReplyBudget > TimeSpan.Zero;
        // The inbox holds the replies from the moment it stores the message, so a fast turn cannot be sent
        // through message/send before this request starts waiting for it.
        var accepted = await sink.AcceptAsync(message with { PassiveReplyWindow = passive ? _options.PassiveReplyBudget : null }, cancellationToken);
        if (!accepted.IsAccepted)
        {
            return Reject(accepted.Reason ?? "refused by the inbox", StatusCodes.Status400BadRequest);
        }

        Log.Stored(_logger, Id.Value, accepted.InboxId);
        var corpId = fields.TryGetValue("ToUserName", out var to) ? to : _app.CorpId;
        if (WeComMessageMapper.IsSubscribe(fields))
        {
            // A fixed greeting, answered on the first delivery only: a retry of the event gets nothing twice.
            return _app.WelcomeText.Length > 0 && accepted.Outcome == AcceptOutcome.Stored
                ? Reply(message.ChatId, corpId, _app.WelcomeText, nonce)
                : Empty();
        }

        if (!passive)
        {
            return Empty();
        }

        IReadOnlyList<OutboundMessage> claimed;
        try
        {
            claimed = await _claims.WaitAndClaimAsync(accepted.InboxId, Id, _name, message.ChatId, 1, _options.PassiveReplyBudget, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return Empty();
        }

        if (claimed.Count == 0)
        {
            return Empty();
        }

        Log.Passive(_logger, Id.Value, accepted.InboxId);
        return Reply(message.ChatId, corpId, claimed[0].Text, nonce);
    }

    private IResult Reply(string userId, string corpId, string text, string nonce)
    {
        var now = _time.GetUtcNow();
        var xml = WeComMessageMapper.TextReply(userId, corpId, text, now, _app.AgentId);
        return Results.Text(_crypto.EncryptReply(xml, WeChatCallback.UnixSeconds(now), nonce), "application/xml", Utf8NoBom);
    }

    // WeCom's "received, nothing to say": an empty 200 (protocols.md §2.1); any other status makes it retry.
    private static IResult Empty() => Results.Text("", "text/plain");

    private IResult Reject(string reason, int status)
    {
        Log.Rejected(_logger, Id.Value, reason, status);
        return Results.StatusCode(status);
    }

    private static partial class Log
    {
        [LoggerMessage(ChannelEventId.WeComCallbackRejected, LogLevel.Warning, "Callback to {Channel} rejected ({Reason}): {Status}")]
        public static partial void Rejected(ILogger logger, string channel, string reason, int status);

        [LoggerMessage(ChannelEventId.WeComCallbackStored, LogLevel.Debug, "Callback to {Channel} stored as message {InboxId}")]
        public static partial void Stored(ILogger logger, string channel, long inboxId);

        [LoggerMessage(ChannelEventId.WeComPassiveReply, LogLevel.Debug, "Answered message {InboxId} on {Channel} in the callback (passive reply)")]
        public static partial void Passive(ILogger logger, string channel, long inboxId);

        [LoggerMessage(ChannelEventId.WeComSendFailed, LogLevel.Warning, "Sending through {Channel}'s message/send failed with errcode {ErrorCode}")]
        public static partial void SendFailed(ILogger logger, string channel, int errorCode);
    }
}
