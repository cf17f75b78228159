using Microsoft.AspNetCore.Http;
using WeSeek.Channels.WeChatCrypto;
using WeSeek.Messaging;

namespace WeSeek.Channels.WeChat;

/// <summary>A callback read this far: the message, the fields it came from, and what the reply needs.</summary>
internal sealed record WeChatCallbackRead(InboundMessage Message, Dictionary<string, string> Fields, IInboundSink Sink, string Nonce, bool Encrypted);

/// <summary>
/// Reads a WeChat callback up to the inbox, the same way for both protocols: a fresh timestamp, the protocol's
/// query check, a bounded UTF-8 body, the protocol's parse and decryption, the replay window (recorded only once
/// a signature verified, so unsigned junk cannot fill it), the mapping, a started channel. Each refusal is the
/// status the caller answers: 403 not from WeChat for this account, 400 malformed, 413 too large, 503 not started.
/// </summary>
internal static class WeChatCallbackReader
{
    /// <summary>The read callback, or the refusal (reason and status) to answer.</summary>
    public static async Task<(WeChatCallbackRead? Read, string Reason, int Status)> ReadAsync(
        HttpRequest request, IWeChatCallbackProtocol protocol, WeChatReplayCache replays, IInboundSink? sink,
        int toleranceSeconds, int maxBodyBytes, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var q = request.Query;
        var timestamp = q["timestamp"].ToString();
        var nonce = q["nonce"].ToString();
        if (!WeChatCallback.IsFresh(timestamp, toleranceSeconds, now))
        {
            return (null, "stale or missing timestamp", StatusCodes.Status403Forbidden);
        }

        if (protocol.CheckQuery(q, out var encrypted) is { } refused)
        {
            return (null, refused, StatusCodes.Status403Forbidden);
        }

        var (body, status) = await WeChatCallback.ReadBodyAsync(request, maxBodyBytes, cancellationToken);
        if (body is null)
        {
            return (null, status == StatusCodes.Status413PayloadTooLarge ? "body too large" : "body not UTF-8", status);
        }

        Dictionary<string, string>? fields;
        string? reason;
        try
        {
            fields = protocol.Open(body, q, encrypted, out reason);
        }
        catch (WeChatCryptoException ex)
        {
            return (null, ex.Error.ToString(), WeChatCallback.StatusOf(ex.Error));
        }

        if (fields is null)
        {
            return (null, reason ?? "malformed", StatusCodes.Status400BadRequest);
        }

        if (!replays.TryRecord(timestamp, nonce))
        {
            return (null, "replayed timestamp and nonce", StatusCodes.Status403Forbidden);
        }

        if (protocol.Map(fields) is not { } message)
        {
            return (null, "missing fields", StatusCodes.Status400BadRequest);
        }

        return sink is null
            ? (null, "channel not started", StatusCodes.Status503ServiceUnavailable)
            : (new WeChatCallbackRead(message, fields, sink, nonce, encrypted), "", StatusCodes.Status200OK);
    }
}
