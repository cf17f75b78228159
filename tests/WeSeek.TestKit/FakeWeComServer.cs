using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using WeSeek.Channels.WeChatCrypto;

namespace WeSeek.TestKit;

/// <summary>
/// 企业微信's side of a self-built app, written from the published documentation (protocols.md §2): it serves
/// <c>cgi-bin/gettoken</c>, <c>cgi-bin/message/send</c> and <c>cgi-bin/media/get</c> on Kestrel at a loopback port, recording every call
/// (refused ones too), and builds the encrypted, msg_signature-signed callbacks and URL verifications WeCom
/// sends, with the WXBizMsgCrypt that the crypto tests check against the published vectors.
/// </summary>
public sealed class FakeWeComServer : FakeWeChatApiServer<(string Path, JsonObject Body, int ErrorCode)>
{
    private readonly string _corpId;
    private readonly string _corpSecret;

    private FakeWeComServer(string corpId, string corpSecret)
    {
        _corpId = corpId;
        _corpSecret = corpSecret;
    }

    /// <summary>Texts that message/send accepted, in order.</summary>
    public IReadOnlyList<string> SentTexts => [.. Calls.Where(c => c.Path.EndsWith("message/send", StringComparison.Ordinal) && c.ErrorCode == 0)
        .Select(c => c.Body["text"]!["content"]!.GetValue<string>())];

    /// <summary>Bodies of the sends message/send accepted, in order.</summary>
    public IReadOnlyList<JsonObject> SentBodies => [.. Calls.Where(c => c.Path.EndsWith("message/send", StringComparison.Ordinal) && c.ErrorCode == 0).Select(c => c.Body)];

    /// <summary>Starts the fake for one corp and one app secret (gettoken refuses others with 40013/40001).</summary>
    public static async Task<FakeWeComServer> StartAsync(string corpId, string corpSecret)
    {
        var server = new FakeWeComServer(corpId, corpSecret);
        await server.ListenAsync(app =>
        {
            app.MapGet("/cgi-bin/gettoken", (Delegate)server.GetToken);
            app.MapPost("/cgi-bin/message/send", (Delegate)server.SendAsync);
            app.MapGet("/cgi-bin/media/get", (Delegate)server.Media);
        });
        return server;
    }

    // GET gettoken?corpid=ID&corpsecret=SECRET (protocols.md §2.3).
    private IResult GetToken(HttpContext context)
    {
        var q = context.Request.Query;
        lock (Gate)
        {
            var code = q["corpid"] != _corpId ? 40013 : q["corpsecret"] != _corpSecret ? 40001 : 0;
            Record((context.Request.Path, new JsonObject { ["corpid"] = q["corpid"].ToString() }, code));
            if (code != 0)
            {
                return Results.Json(new { errcode = code, errmsg = code == 40013 ? "invalid corpid" : "invalid secret" });
            }

            return Results.Json(new { errcode = 0, errmsg = "ok", access_token = IssueToken("wecom-token-"), expires_in = 7200 });
        }
    }

    // POST message/send?access_token=… (protocols.md §2.2).
    private async Task<IResult> SendAsync(HttpContext context)
    {
        var body = (await JsonNode.ParseAsync(context.Request.Body))!.AsObject();
        lock (Gate)
        {
            var token = context.Request.Query["access_token"].ToString();
            var code = token == CurrentToken ? 0 : CurrentToken == ExpiredToken ? 42001 : 40014;
            if (code == 0 && TryTakeSendError(out var scripted))
            {
                code = scripted;
            }

            Record((context.Request.Path, body, code));
            return code == 0
                ? Results.Json(new { errcode = 0, errmsg = "ok", invaliduser = "", msgid = "msg-" + CallCount.ToString(CultureInfo.InvariantCulture) })
                : Results.Json(new { errcode = code, errmsg = "scripted or token error" });
        }
    }

    // GET media/get?access_token=…&media_id=…: the file itself, or JSON with an errcode (40007: invalid media_id).
    private IResult Media(HttpContext context)
    {
        var q = context.Request.Query;
        lock (Gate)
        {
            var found = TryGetMedia(q["media_id"].ToString(), out var media);
            var code = q["access_token"] != CurrentToken ? 42001 : found ? 0 : 40007;
            Record((context.Request.Path, new JsonObject { ["media_id"] = q["media_id"].ToString() }, code));
            return code == 0
                ? Results.Bytes(media.Data, media.MediaType)
                : Results.Json(new { errcode = code, errmsg = "invalid media_id or token" });
        }
    }

    /// <summary>A member's text message as WeCom renders it after decryption (protocols.md §2.1, vector V1).</summary>
    public static string TextMessage(string corpId, string userId, string content, long msgId, DateTimeOffset at, int agentId) =>
        $"<xml><ToUserName><![CDATA[{corpId}]]></ToUserName>\n<FromUserName><![CDATA[{userId}]]></FromUserName>\n<CreateTime>{at.ToUnixTimeSeconds()}</CreateTime>\n<MsgType><![CDATA[text]]></MsgType>\n<Content><![CDATA[{content}]]></Content>\n<MsgId>{msgId}</MsgId>\n<AgentID>{agentId}</AgentID>\n</xml>";

    /// <summary>An event (<c>subscribe</c>, <c>enter_agent</c>, <c>click</c> with its EventKey…).</summary>
    public static string EventMessage(string corpId, string userId, string eventName, DateTimeOffset at, int agentId, string eventKey = "") =>
        $"<xml><ToUserName><![CDATA[{corpId}]]></ToUserName><FromUserName><![CDATA[{userId}]]></FromUserName><CreateTime>{at.ToUnixTimeSeconds()}</CreateTime><MsgType><![CDATA[event]]></MsgType><AgentID>{agentId}</AgentID><Event><![CDATA[{eventName}]]></Event><EventKey><![CDATA[{eventKey}]]></EventKey></xml>";

    /// <summary>Any other message kind, with its fields (image PicUrl/MediaId, location Location_X…).</summary>
    public static string Message(string corpId, string userId, string msgType, long msgId, DateTimeOffset at, int agentId, params (string Name, string Value)[] fields) =>
        $"<xml><ToUserName><![CDATA[{corpId}]]></ToUserName><FromUserName><![CDATA[{userId}]]></FromUserName><CreateTime>{at.ToUnixTimeSeconds()}</CreateTime><MsgType><![CDATA[{msgType}]]></MsgType>"
        + string.Concat(fields.Select(f => $"<{f.Name}><![CDATA[{f.Value}]]></{f.Name}>"))
        + $"<MsgId>{msgId}</MsgId><AgentID>{agentId}</AgentID></xml>";

    /// <summary>The query and body of a callback as WeCom sends it: always encrypted, signed with msg_signature
    /// only, the envelope carrying ToUserName and AgentID beside Encrypt.</summary>
    public static (string PathAndQuery, string Body) Callback(string path, WeChatMessageCrypto crypto, string corpId, int agentId, string xml, DateTimeOffset at, string nonce)
    {
        ArgumentNullException.ThrowIfNull(crypto);
        var timestamp = at.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var encrypted = crypto.Encrypt(xml);
        var signature = WeChatSignature.Compute(crypto.Token, timestamp, nonce, encrypted);
        return ($"{path}?msg_signature={signature}&timestamp={timestamp}&nonce={nonce}",
            $"<xml><ToUserName><![CDATA[{corpId}]]></ToUserName><Encrypt><![CDATA[{encrypted}]]></Encrypt><AgentID><![CDATA[{agentId}]]></AgentID></xml>");
    }

    /// <summary>The URL verification GET: a random number encrypted as echostr, signed over the ciphertext,
    /// URL-encoded as WeCom sends it. Returns the path and query and the plaintext the server must answer.</summary>
    public static (string PathAndQuery, string Plain) VerifyUrl(string path, WeChatMessageCrypto crypto, DateTimeOffset at, string nonce)
    {
        ArgumentNullException.ThrowIfNull(crypto);
        var timestamp = at.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var plain = Random.Shared.NextInt64(1_000_000_000_000_000_000, long.MaxValue).ToString(CultureInfo.InvariantCulture);
        var echostr = crypto.Encrypt(plain);
        var signature = WeChatSignature.Compute(crypto.Token, timestamp, nonce, echostr);
        return ($"{path}?msg_signature={signature}&timestamp={timestamp}&nonce={nonce}&echostr={Uri.EscapeDataString(echostr)}", plain);
    }
}
