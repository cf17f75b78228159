using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using WeSeek.Channels.WeChatCrypto;

namespace WeSeek.TestKit;

/// <summary>
/// WeChat's side of the 公众号 protocol, written from the published documentation (protocols.md §1): it
/// serves <c>cgi-bin/stable_token</c>, <c>message/custom/send</c> and <c>message/custom/typing</c> on Kestrel
/// at a loopback port, recording every call, and it builds signed (and, in safe mode, encrypted) callbacks
/// with the same WXBizMsgCrypt the product uses, which the crypto tests check against the published vectors.
/// </summary>
public sealed class FakeWeChatServer : FakeWeChatApiServer<(string Path, JsonObject Body)>
{
    private FakeWeChatServer()
    {
    }

    /// <summary>Texts sent through message/custom/send, in order.</summary>
    public IReadOnlyList<string> SentTexts => [.. Calls.Where(c => c.Path.EndsWith("custom/send", StringComparison.Ordinal)).Select(c => c.Body["text"]!["content"]!.GetValue<string>())];

    public static async Task<FakeWeChatServer> StartAsync()
    {
        var server = new FakeWeChatServer();
        await server.ListenAsync(app =>
        {
            app.MapPost("/cgi-bin/stable_token", (Delegate)server.TokenAsync);
            app.MapPost("/cgi-bin/message/custom/send", (Delegate)server.ApiAsync);
            app.MapPost("/cgi-bin/message/custom/typing", (Delegate)server.ApiAsync);
            app.MapGet("/cgi-bin/media/get", (Delegate)server.MediaAsync);
        });
        return server;
    }

    private async Task<IResult> TokenAsync(HttpContext context)
    {
        var body = (await JsonNode.ParseAsync(context.Request.Body))!.AsObject();
        lock (Gate)
        {
            Record((context.Request.Path, body));
            return Results.Json(new { access_token = IssueToken("token-"), expires_in = 7200 });
        }
    }

    private TaskCompletionSource? _sendGate;

    /// <summary>Holds custom/send requests, before they count as delivered, until <see cref="ReleaseSends"/>: a test
    /// can stop an instance while none of its sends has reached WeChat. A held request whose client dies is never
    /// delivered.</summary>
    public void HoldSends() => Volatile.Write(ref _sendGate, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));

    public void ReleaseSends() => Interlocked.Exchange(ref _sendGate, null)?.TrySetResult();

    private async Task<IResult> ApiAsync(HttpContext context)
    {
        var body = (await JsonNode.ParseAsync(context.Request.Body))!.AsObject();
        if (context.Request.Path.Value!.EndsWith("custom/send", StringComparison.Ordinal) && Volatile.Read(ref _sendGate) is { } gate)
        {
            await gate.Task.WaitAsync(context.RequestAborted);
        }
        lock (Gate)
        {
            if (context.Request.Query["access_token"] != CurrentToken)
            {
                return Results.Json(new { errcode = CurrentToken == ExpiredToken ? 42001 : 40001, errmsg = "access_token expired or invalid" });
            }

            if (context.Request.Path.Value!.EndsWith("custom/send", StringComparison.Ordinal) && TryTakeSendError(out var code))
            {
                return Results.Json(new { errcode = code, errmsg = "scripted error" });
            }

            Record((context.Request.Path, body));
            return Results.Json(new { errcode = 0, errmsg = "ok" });
        }
    }

    // media/get answers the file itself, or JSON with an errcode (40007: invalid media_id) as WeChat does.
    private IResult MediaAsync(HttpContext context)
    {
        lock (Gate)
        {
            Record((context.Request.Path, new JsonObject { ["media_id"] = context.Request.Query["media_id"].ToString() }));
            if (context.Request.Query["access_token"] != CurrentToken)
            {
                return Results.Json(new { errcode = 40001, errmsg = "invalid credential" });
            }

            return TryGetMedia(context.Request.Query["media_id"].ToString(), out var media)
                ? Results.Bytes(media.Data, media.MediaType)
                : Results.Json(new { errcode = 40007, errmsg = "invalid media_id" });
        }
    }

    /// <summary>A user's image message as WeChat renders it (protocols.md §1.2).</summary>
    public static string ImageMessage(string toGh, string fromOpenId, string mediaId, long msgId, DateTimeOffset at) =>
        $"<xml><ToUserName><![CDATA[{toGh}]]></ToUserName><FromUserName><![CDATA[{fromOpenId}]]></FromUserName><CreateTime>{at.ToUnixTimeSeconds()}</CreateTime><MsgType><![CDATA[image]]></MsgType><PicUrl><![CDATA[http://mmbiz.qpic.cn/{mediaId}]]></PicUrl><MediaId><![CDATA[{mediaId}]]></MediaId><MsgId>{msgId}</MsgId></xml>";

    /// <summary>A user's text message as WeChat renders it (protocols.md §1.2).</summary>
    public static string TextMessage(string toGh, string fromOpenId, string content, long msgId, DateTimeOffset at) =>
        $"<xml><ToUserName><![CDATA[{toGh}]]></ToUserName><FromUserName><![CDATA[{fromOpenId}]]></FromUserName><CreateTime>{at.ToUnixTimeSeconds()}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{content}]]></Content><MsgId>{msgId}</MsgId></xml>";

    private static long _nonce = 100_000;

    /// <summary>A nonce not used before in this process: WeChat signs every delivery, retries included, with a new
    /// one, and the channels refuse a (timestamp, nonce) pair seen twice.</summary>
    public static string NextNonce() => Interlocked.Increment(ref _nonce).ToString(CultureInfo.InvariantCulture);

    /// <summary>The query and body of a callback in plain or safe mode, signed as WeChat signs it.</summary>
    public static (string PathAndQuery, string Body) Callback(string path, string token, WeChatMessageCrypto? crypto, string xml, DateTimeOffset at, string nonce, string openId)
    {
        var timestamp = at.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var signature = WeChatSignature.Compute(token, timestamp, nonce);
        var query = new StringBuilder($"{path}?signature={signature}&timestamp={timestamp}&nonce={nonce}&openid={openId}");
        if (crypto is null)
        {
            return (query.ToString(), xml);
        }

        var encrypted = crypto.Encrypt(xml);
        query.Append("&encrypt_type=aes&msg_signature=").Append(WeChatSignature.Compute(token, timestamp, nonce, encrypted));
        return (query.ToString(), $"<xml><ToUserName><![CDATA[gh_test]]></ToUserName><Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>");
    }
}
