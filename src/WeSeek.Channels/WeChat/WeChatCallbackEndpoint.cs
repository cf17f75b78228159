using System.Collections.Concurrent;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using WeSeek.Channels.WeChatCrypto;
using WeSeek.Messaging;

namespace WeSeek.Channels.WeChat;

/// <summary>
/// One account's WeChat callback (公众号 or 企业微信), the whole verify → read → parse → decrypt → map → accept →
/// claim → reply skeleton, with the protocol (<see cref="IWeChatCallbackProtocol"/>) supplying only what
/// differs. A message is verified, normalised, stored, and only then answered: with the answer itself when the
/// turn finishes within the protocol's passive window (the reply is claimed from the outbox), otherwise with the
/// protocol's acknowledgement, after which the outbox sends it through the platform's API. One status rule for
/// both: 403 not from WeChat for this account, 400 malformed (a URL verification without <c>echostr</c>
/// included), 413 too large, 503 not started. Hostile input stores nothing. Thread-safe.
/// </summary>
/// <param name="channel">The channel the messages are stored under.</param>
/// <param name="name">The account's name, as in the callback URL.</param>
/// <param name="protocol">What is the platform's own.</param>
/// <param name="claims">The outbox's passive-reply claims.</param>
/// <param name="options">The replay window and the largest body read.</param>
/// <param name="time">The clock.</param>
/// <param name="logger">The channel's logger.</param>
internal sealed partial class WeChatCallbackEndpoint(ChannelId channel, string name, IWeChatCallbackProtocol protocol, IReplyClaims claims,
    WeChatCallbackOptions options, TimeProvider time, ILogger logger)
{
    // Replies are UTF-8 without a BOM: WeCom's URL verification refuses anything but the bare plaintext
    // ("不能带bom头"), and both platforms read XML replies as UTF-8 (protocols.md §2.1, §6.10).
    private static readonly UTF8Encoding Utf8NoBom = new(false);

    // Deliveries of one message are WeChat's retries, all within ~15 s; a minute covers them with room.
    private static readonly TimeSpan DeliveryMemory = TimeSpan.FromMinutes(1);

    private readonly WeChatReplayCache _replays = new(time, options.TimestampToleranceSeconds);
    // Deliveries seen per message id (the protocol may answer the last one differently); bounded by pruning.
    private readonly ConcurrentDictionary<string, (int Count, DateTimeOffset First)> _deliveries = new(StringComparer.Ordinal);
    private IInboundSink? _sink;

    /// <summary>Starts storing messages into <paramref name="sink"/>; until then a message gets 503.</summary>
    public void Start(IInboundSink sink) => _sink = sink;

    /// <summary>Stops storing messages: they get 503 again.</summary>
    public void Stop() => _sink = null;

    /// <summary>URL verification (GET): the protocol's check of the signed <c>echostr</c>, then its answer.</summary>
    public IResult Verify(HttpRequest request)
    {
        var (status, body, reason) = VerifyUrl(request.Query, protocol.OpenEchostr, options.TimestampToleranceSeconds, time.GetUtcNow());
        return body is null ? Reject(reason, status) : Results.Text(body, "text/plain", Utf8NoBom);
    }

    /// <summary>The check behind <see cref="Verify"/>: the body to answer, or the status to answer and why.
    /// A fresh timestamp first (403), then an <c>echostr</c> at all (400: without it there is nothing to
    /// verify or echo), then <paramref name="openEchostr"/> (by <see cref="WeChatCallback.StatusOf"/>).</summary>
    internal static (int Status, string? Body, string Reason) VerifyUrl(
        IQueryCollection query, Func<IQueryCollection, string, string> openEchostr, int toleranceSeconds, DateTimeOffset now)
    {
        if (!WeChatCallback.IsFresh(query["timestamp"], toleranceSeconds, now))
        {
            return (StatusCodes.Status403Forbidden, null, "stale or missing timestamp");
        }

        var echostr = query["echostr"].ToString();
        if (echostr.Length == 0)
        {
            return (StatusCodes.Status400BadRequest, null, "no echostr");
        }

        try
        {
            return (StatusCodes.Status200OK, openEchostr(query, echostr), "");
        }
        catch (WeChatCryptoException ex)
        {
            return (WeChatCallback.StatusOf(ex.Error), null, ex.Error.ToString());
        }
    }

    /// <summary>A message or event (POST).</summary>
    public async Task<IResult> ReceiveAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        var (read, reason, status) = await WeChatCallbackReader.ReadAsync(
            request, protocol, _replays, _sink, options.TimestampToleranceSeconds, options.MaxBodyBytes, time.GetUtcNow(), cancellationToken);
        if (read is null)
        {
            return status == StatusCodes.Status503ServiceUnavailable ? Results.StatusCode(status) : Reject(reason, status);
        }

        var message = read.Message;
        var delivery = CountDelivery(message.ExternalMessageId);
        var asksAnswer = message.Kind != MessageKind.Other;
        if (asksAnswer && protocol.FetchesWaitingAnswer(delivery))
        {
            // A message while an answer waits fetches that answer. It is a fetch, not a question, so it is not stored.
            var waiting = await claims.ClaimAsync(channel, name, message.ChatId, 1, cancellationToken);
            if (waiting.Count > 0)
            {
                return Reply(read, waiting[0].Text);
            }
        }

        // The inbox holds the replies from the moment it stores the message, so a fast turn cannot be sent
        // through the API before this request starts waiting for it.
        var window = asksAnswer ? protocol.PassiveWindow(delivery) : null;
        var accepted = await read.Sink.AcceptAsync(message with { PassiveReplyWindow = window }, cancellationToken);
        if (!accepted.IsAccepted)
        {
            return Reject(accepted.Reason ?? "refused by the inbox", StatusCodes.Status400BadRequest);
        }

        Log.Stored(logger, channel.Value, accepted.InboxId, delivery);
        if (!asksAnswer)
        {
            return protocol.EventReply(read.Fields, accepted) is { } eventReply ? Reply(read, eventReply) : Acknowledge();
        }

        protocol.Stored(message, accepted);
        if (window is not { } budget)
        {
            return Acknowledge();
        }

        IReadOnlyList<OutboundMessage> claimed;
        try
        {
            claimed = await claims.WaitAndClaimAsync(accepted.InboxId, channel, name, message.ChatId, 1, budget, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // WeChat hung up (its 5 s, or a held delivery): it retries or has given up; nobody reads this.
            return Acknowledge();
        }

        if (claimed.Count > 0)
        {
            Log.Passive(logger, channel.Value, accepted.InboxId);
            return Reply(read, claimed[0].Text);
        }

        if (protocol.Placeholder is { } placeholder)
        {
            Log.Placeholder(logger, channel.Value, accepted.InboxId, delivery);
            return Reply(read, placeholder);
        }

        return Acknowledge();
    }

    private int CountDelivery(string externalId)
    {
        var now = time.GetUtcNow();
        if (_deliveries.Count > 10_000)
        {
            foreach (var old in _deliveries.Where(p => now - p.Value.First > DeliveryMemory).Select(p => p.Key).ToList())
            {
                _deliveries.TryRemove(old, out _);
            }
        }

        return _deliveries.AddOrUpdate(externalId, _ => (1, now), (_, seen) => now - seen.First > DeliveryMemory ? (1, now) : (seen.Count + 1, seen.First)).Count;
    }

    private IResult Reply(WeChatCallbackRead read, string text)
    {
        var now = time.GetUtcNow();
        var xml = protocol.TextReply(read.Message.ChatId, read.Fields, text, now);
        return Results.Text(read.Encrypted ? protocol.EncryptReply(xml, WeChatCallback.UnixSeconds(now), read.Nonce) : xml, "application/xml", Utf8NoBom);
    }

    // Needs no encryption even in safe mode (protocols.md §1.4), and any status but 200 makes WeChat retry.
    private IResult Acknowledge() => Results.Text(protocol.Acknowledgement, "text/plain", Utf8NoBom);

    private IResult Reject(string reason, int status)
    {
        Log.Rejected(logger, channel.Value, reason, status);
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
    }
}
