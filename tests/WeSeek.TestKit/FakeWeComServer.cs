using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using WeSeek.Channels.WeChatCrypto;

namespace WeSeek.TestKit;

/// <summary>
/// 企业微信's side of a self-built app, written from the published documentation (protocols.md §2): it serves
/// <c>cgi-bin/gettoken</c>, <c>cgi-bin/message/send</c> and <c>cgi-bin/media/get</c> on Kestrel at a loopback port, recording every call
/// (refused ones too), and builds the encrypted, msg_signature-signed callbacks and URL verifications WeCom
/// sends, with the WXBizMsgCrypt that the crypto tests check against the published vectors.
/// </summary>
public sealed class FakeWeComServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly object _gate = new();
    private readonly List<(string Path, JsonObject Body, int ErrorCode)> _calls = [];
    private readonly Queue<int> _sendErrors = new();
    private readonly string _corpId;
    private readonly string _corpSecret;
    private readonly Dictionary<string, (byte[] Data, string MediaType)> _media = [];
    private int _tokens;

    private FakeWeComServer(WebApplication app, string corpId, string corpSecret)
    {
        _app = app;
        _corpId = corpId;
        _corpSecret = corpSecret;
    }

    /// <summary>The API base URL (<c>WeCom:ApiBaseUrl</c>).</summary>
    public Uri BaseUrl { get; private set; } = null!;

    /// <summary>The token currently valid; a send with another gets 42001 (expired) or 40014 (invalid).</summary>
    public string CurrentToken { get; private set; } = "";

    /// <summary>Calls received, in order: path, JSON body (the query for gettoken) and the errcode answered.</summary>
    public IReadOnlyList<(string Path, JsonObject Body, int ErrorCode)> Calls
    {
        get
        {
            lock (_gate)
            {
                return [.. _calls];
            }
        }
    }

    /// <summary>Texts that message/send accepted, in order.</summary>
    public IReadOnlyList<string> SentTexts => [.. Calls.Where(c => c.Path.EndsWith("message/send", StringComparison.Ordinal) && c.ErrorCode == 0)
        .Select(c => c.Body["text"]!["content"]!.GetValue<string>())];

    /// <summary>Bodies of the sends message/send accepted, in order.</summary>
    public IReadOnlyList<JsonObject> SentBodies => [.. Calls.Where(c => c.Path.EndsWith("message/send", StringComparison.Ordinal) && c.ErrorCode == 0).Select(c => c.Body)];

    /// <summary>Makes the current token invalid, as WeCom does when it drops a token early (the next send gets 42001).</summary>
    public void ExpireToken()
    {
        lock (_gate)
        {
            CurrentToken = "expired";
        }
    }

    /// <summary>The next sends made with a valid token answer these errcodes, in order.</summary>
    public void FailNextSends(params int[] errcodes)
    {
        lock (_gate)
        {
            foreach (var code in errcodes)
            {
                _sendErrors.Enqueue(code);
            }
        }
    }

    /// <summary>Makes <paramref name="data"/> downloadable as temporary media <paramref name="mediaId"/>.</summary>
    public void AddMedia(string mediaId, byte[] data, string mediaType)
    {
        lock (_gate)
        {
            _media[mediaId] = (data, mediaType);
        }
    }

    /// <summary>Starts the fake for one corp and one app secret (gettoken refuses others with 40013/40001).</summary>
    public static async Task<FakeWeComServer> StartAsync(string corpId, string corpSecret)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var server = new FakeWeComServer(app, corpId, corpSecret);
        app.MapGet("/cgi-bin/gettoken", (Delegate)server.GetToken);
        app.MapPost("/cgi-bin/message/send", (Delegate)server.SendAsync);
        app.MapGet("/cgi-bin/media/get", (Delegate)server.Media);
        await app.StartAsync();
        server.BaseUrl = new Uri(app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First().TrimEnd('/') + "/");
        return server;
    }

    // GET gettoken?corpid=ID&corpsecret=SECRET (protocols.md §2.3).
    private IResult GetToken(HttpContext context)
    {
        var q = context.Request.Query;
        lock (_gate)
        {
            var code = q["corpid"] != _corpId ? 40013 : q["corpsecret"] != _corpSecret ? 40001 : 0;
            _calls.Add((context.Request.Path, new JsonObject { ["corpid"] = q["corpid"].ToString() }, code));
            if (code != 0)
            {
                return Results.Json(new { errcode = code, errmsg = code == 40013 ? "invalid corpid" : "invalid secret" });
            }

            CurrentToken = "wecom-token-" + (++_tokens).ToString(CultureInfo.InvariantCulture);
            return Results.Json(new { errcode = 0, errmsg = "ok", access_token = CurrentToken, expires_in = 7200 });
        }
    }

    // POST message/send?access_token=… (protocols.md §2.2).
    private async Task<IResult> SendAsync(HttpContext context)
    {
        var body = (await JsonNode.ParseAsync(context.Request.Body))!.AsObject();
        lock (_gate)
        {
            var token = context.Request.Query["access_token"].ToString();
            var code = token == CurrentToken ? 0 : CurrentToken == "expired" ? 42001 : 40014;
            if (code == 0 && _sendErrors.TryDequeue(out var scripted))
            {
                code = scripted;
            }

            _calls.Add((context.Request.Path, body, code));
            return code == 0
                ? Results.Json(new { errcode = 0, errmsg = "ok", invaliduser = "", msgid = "msg-" + _calls.Count.ToString(CultureInfo.InvariantCulture) })
                : Results.Json(new { errcode = code, errmsg = "scripted or token error" });
        }
    }

    // GET media/get?access_token=…&media_id=…: the file itself, or JSON with an errcode (40007: invalid media_id).
    private IResult Media(HttpContext context)
    {
        var q = context.Request.Query;
        lock (_gate)
        {
            var code = q["access_token"] != CurrentToken ? 42001 : _media.ContainsKey(q["media_id"].ToString()) ? 0 : 40007;
            _calls.Add((context.Request.Path, new JsonObject { ["media_id"] = q["media_id"].ToString() }, code));
            return code == 0
                ? Results.Bytes(_media[q["media_id"].ToString()].Data, _media[q["media_id"].ToString()].MediaType)
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

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
