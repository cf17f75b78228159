using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace WeSeek.TestKit;

/// <summary>One <c>sendmessage</c> the fake accepted: its text, or for an image or file the item itself.</summary>
public sealed record ILinkSent(string ToUserId, string? ContextToken, string ClientId, string Text, JsonObject? MediaItem = null);

/// <summary>One <c>sendtyping</c>: status 1 typing, 2 cancel.</summary>
public sealed record ILinkTyping(string UserId, string Ticket, int Status);

/// <summary>
/// Tencent's side of the iLink bot API, written from the published protocol (Tencent/openclaw-weixin
/// docs/protocol.md) on Kestrel at a loopback port: QR login (<c>get_bot_qrcode</c>, <c>get_qrcode_status</c>
/// with a scripted sequence of states), the <c>getupdates</c> long-poll over a cursor, <c>sendmessage</c> that
/// de-duplicates by <c>client_id</c>, <c>getconfig</c>/<c>sendtyping</c>, scripted <c>ret=-2</c> and
/// <c>errcode -14</c>. It checks the headers every request must carry and records what breaks the protocol.
/// Thread-safe.
/// </summary>
public sealed class FakeILinkServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly Lock _gate = new();
    private readonly List<JsonObject> _messages = [];
    private readonly List<string> _cursors = [];
    private readonly List<string> _pollTokens = [];
    private readonly List<ILinkSent> _sent = [];
    private readonly Dictionary<string, int> _sendAttempts = new(StringComparer.Ordinal);
    private readonly List<ILinkTyping> _typing = [];
    private readonly List<string> _protocolErrors = [];
    private readonly Queue<string> _qrStatuses = new();
    private readonly Queue<int> _pollErrors = new();
    private readonly Queue<int> _sendErrors = new();
    private readonly HashSet<string> _validTokens = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (string FileKey, byte[] Key, long RawSize, string Md5, long FileSize)> _uploads = new(StringComparer.Ordinal);
    private readonly Dictionary<string, byte[]> _cdn = new(StringComparer.Ordinal);
    private TaskCompletionSource _arrived = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _dropSendResponses;
    private int _qrCodes;
    private int _tokens;
    private int _polling;
    private long _nextMessageId = 7_000_000_000_000_000_001;

    private FakeILinkServer(WebApplication app) => _app = app;

    /// <summary>The API base URL (<c>ILink:BaseUrl</c>); confirmed logins name it as <c>baseurl</c>.</summary>
    public Uri BaseUrl { get; private set; } = null!;

    /// <summary>The CDN base URL (<c>ILink:CdnBaseUrl</c>).</summary>
    public Uri CdnBaseUrl => new(BaseUrl, "c2c");

    /// <summary>Files uploaded to the CDN whose ciphertext decrypted to the announced size and MD5.</summary>
    public int VerifiedUploads { get; private set; }

    /// <summary>Puts a file on the CDN as a user's message would reference it; returns <c>encrypt_query_param</c>
    /// and <c>aes_key</c> (base64 of the raw key, or of its hex text when <paramref name="hexKey"/>).</summary>
    public (string EncryptQueryParam, string AesKey) PutCdnFile(byte[] plain, bool hexKey)
    {
        var key = System.Security.Cryptography.RandomNumberGenerator.GetBytes(16);
        using var aes = System.Security.Cryptography.Aes.Create();
        aes.Key = key;
        var cipher = aes.EncryptEcb(plain, System.Security.Cryptography.PaddingMode.PKCS7);
        return Locked(() =>
        {
            var id = "dl-in-" + _cdn.Count.ToString(CultureInfo.InvariantCulture);
            _cdn[id] = cipher;
            return (id, Convert.ToBase64String(hexKey ? Encoding.ASCII.GetBytes(Convert.ToHexStringLower(key)) : key));
        });
    }

    /// <summary>How long <c>getupdates</c> holds a poll with nothing to deliver. Default 300 ms (iLink: 35 s).</summary>
    public TimeSpan PollHold { get; set; } = TimeSpan.FromMilliseconds(300);

    /// <summary>Most messages one <c>getupdates</c> returns. Default 10.</summary>
    public int BatchSize { get; set; } = 10;

    /// <summary>The bot id a confirmed login returns.</summary>
    public string BotId { get; set; } = "b0f5a1c2@im.bot";

    /// <summary>The last token issued by a confirmed login.</summary>
    public string? LastToken { get; private set; }

    /// <summary>QR codes handed out.</summary>
    public int QrCodes => Locked(() => _qrCodes);

    /// <summary>The cursor of every <c>getupdates</c>, in order.</summary>
    public IReadOnlyList<string> Cursors => Locked(() => _cursors.ToList());

    /// <summary>The bot token of every <c>getupdates</c>, in order.</summary>
    public IReadOnlyList<string> PollTokens => Locked(() => _pollTokens.ToList());

    /// <summary>Most <c>getupdates</c> in flight at once (a second poller on one token shows as 2).</summary>
    public int MaxConcurrentPolls { get; private set; }

    /// <summary>Messages delivered, once per client id, in order.</summary>
    public IReadOnlyList<ILinkSent> Sent => Locked(() => _sent.ToList());

    /// <summary><c>sendmessage</c> requests per client id, duplicates included.</summary>
    public IReadOnlyDictionary<string, int> SendAttempts => Locked(() => new Dictionary<string, int>(_sendAttempts));

    /// <summary>Typing calls, in order.</summary>
    public IReadOnlyList<ILinkTyping> Typing => Locked(() => _typing.ToList());

    /// <summary>Requests that broke the protocol (missing headers, wrong shapes); a test expects none.</summary>
    public IReadOnlyList<string> ProtocolErrors => Locked(() => _protocolErrors.ToList());

    /// <summary>The QR statuses the next polls answer, in order; <c>wait</c> once they run out.</summary>
    public void ScriptQr(params string[] statuses) => Locked(() =>
    {
        foreach (var status in statuses)
        {
            _qrStatuses.Enqueue(status);
        }
    });

    /// <summary>A user's text message, delivered by the next <c>getupdates</c>. Returns its message id.</summary>
    public long Deliver(string fromUserId, string text, string? contextToken = null)
    {
        long id;
        lock (_gate)
        {
            id = _nextMessageId++;
            _messages.Add(new JsonObject
            {
                ["seq"] = _messages.Count + 1,
                ["message_id"] = id,
                ["from_user_id"] = fromUserId,
                ["to_user_id"] = BotId,
                ["create_time_ms"] = 1_764_300_000_000L + _messages.Count,
                ["session_id"] = "s-" + fromUserId,
                ["message_type"] = 1,
                ["message_state"] = 2,
                ["item_list"] = new JsonArray(new JsonObject { ["type"] = 1, ["text_item"] = new JsonObject { ["text"] = text } }),
                ["context_token"] = contextToken ?? "ctx-" + id.ToString(CultureInfo.InvariantCulture),
            });
            _arrived.TrySetResult();
            _arrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        return id;
    }

    /// <summary>The next polls answer these <c>ret</c> values (-2 rate limited, -14 expired).</summary>
    public void FailNextPolls(params int[] rets) => Locked(() => Array.ForEach(rets, _pollErrors.Enqueue));

    /// <summary>The next sends answer these <c>ret</c> values without delivering.</summary>
    public void FailNextSends(params int[] rets) => Locked(() => Array.ForEach(rets, _sendErrors.Enqueue));

    /// <summary>The next <paramref name="count"/> sends are delivered but answered with HTTP 500, as when the
    /// response is lost on the way back: the client cannot know it was delivered.</summary>
    public void DropNextSendResponses(int count) => Locked(() => _dropSendResponses += count);

    /// <summary>Ends the session of one token: each call with it answers <c>errcode -14</c>.</summary>
    public void ExpireSession(string token) => Locked(() => _validTokens.Remove(token));

    /// <summary>Ends the session of every issued token: each call with one answers <c>errcode -14</c>.</summary>
    public void ExpireSessions() => Locked(_validTokens.Clear);

    public static async Task<FakeILinkServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var server = new FakeILinkServer(app);
        app.MapPost("/ilink/bot/get_bot_qrcode", (Delegate)server.QrCodeAsync);
        app.MapGet("/ilink/bot/get_qrcode_status", (Delegate)server.QrStatus);
        app.MapPost("/ilink/bot/getupdates", (Delegate)server.GetUpdatesAsync);
        app.MapPost("/ilink/bot/sendmessage", (Delegate)server.SendMessageAsync);
        app.MapPost("/ilink/bot/getconfig", (Delegate)server.GetConfigAsync);
        app.MapPost("/ilink/bot/sendtyping", (Delegate)server.SendTypingAsync);
        app.MapPost("/ilink/bot/getuploadurl", (Delegate)server.GetUploadUrlAsync);
        app.MapPost("/c2c/upload", (Delegate)server.CdnUploadAsync);
        app.MapGet("/c2c/download", (Delegate)server.CdnDownload);
        await app.StartAsync();
        server.BaseUrl = new Uri(app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First().TrimEnd('/') + "/");
        return server;
    }

    private async Task<IResult> QrCodeAsync(HttpContext context)
    {
        var body = await ReadAsync(context, authenticated: false);
        if (context.Request.Query["bot_type"] != "3" || body?["local_token_list"] is not JsonArray)
        {
            Error("get_bot_qrcode without bot_type=3 or local_token_list");
        }

        return Locked(() =>
        {
            var code = "qr-" + (++_qrCodes).ToString(CultureInfo.InvariantCulture);
            return Results.Json(new { ret = 0, qrcode = code, qrcode_img_content = "https://liteapp.weixin.qq.com/q/" + code + "?bot_type=3" });
        });
    }

    private IResult QrStatus(HttpContext context)
    {
        CheckHeaders(context, authenticated: false);
        if (string.IsNullOrEmpty(context.Request.Query["qrcode"]))
        {
            Error("get_qrcode_status without qrcode");
        }

        return Locked(() =>
        {
            var status = _qrStatuses.TryDequeue(out var next) ? next : "wait";
            if (status != "confirmed")
            {
                return Results.Json(new { ret = 0, status });
            }

            LastToken = "tok-" + (++_tokens).ToString(CultureInfo.InvariantCulture) + "-" + Guid.NewGuid().ToString("N");
            _validTokens.Add(LastToken);
            return Results.Json(new { ret = 0, status, bot_token = LastToken, ilink_bot_id = BotId, baseurl = BaseUrl.ToString().TrimEnd('/'), ilink_user_id = "owner@im.wechat" });
        });
    }

    private async Task<IResult> GetUpdatesAsync(HttpContext context)
    {
        var body = await ReadAsync(context, authenticated: true);
        if (Expired(context) is { } expired)
        {
            return expired;
        }

        var cursor = body?["get_updates_buf"]?.GetValue<string>();
        if (cursor is null || body?["base_info"] is null)
        {
            Error("getupdates without get_updates_buf or base_info");
        }

        Task arrived;
        lock (_gate)
        {
            _cursors.Add(cursor ?? "");
            _pollTokens.Add(context.Request.Headers.Authorization.ToString()["Bearer ".Length..]);
            MaxConcurrentPolls = Math.Max(MaxConcurrentPolls, ++_polling);
            arrived = _arrived.Task;
        }

        try
        {
            if (Locked(() => _pollErrors.TryDequeue(out var ret) ? (int?)ret : null) is { } failure)
            {
                return Results.Json(new { ret = failure, errcode = failure, errmsg = failure == -2 ? "rate limited" : "error" });
            }

            var from = Position(cursor);
            if (Locked(() => _messages.Count) <= from)
            {
                // Hold the poll until a message arrives or the hold ends, as the real long-poll does.
                await Task.WhenAny(arrived, Task.Delay(PollHold, context.RequestAborted));
            }

            return Locked(() =>
            {
                var batch = _messages.Skip(from).Take(BatchSize).Select(m => m.DeepClone()).ToArray();
                return Results.Json(new JsonObject
                {
                    ["ret"] = 0,
                    ["msgs"] = new JsonArray(batch),
                    ["get_updates_buf"] = "c:" + (from + batch.Length).ToString(CultureInfo.InvariantCulture),
                    ["longpolling_timeout_ms"] = 35000,
                });
            });
        }
        finally
        {
            Locked(() => _polling--);
        }
    }

    private async Task<IResult> SendMessageAsync(HttpContext context)
    {
        var body = await ReadAsync(context, authenticated: true);
        if (Expired(context) is { } expired)
        {
            return expired;
        }

        var msg = body?["msg"];
        var clientId = msg?["client_id"]?.GetValue<string>();
        var to = msg?["to_user_id"]?.GetValue<string>();
        var items = msg?["item_list"] as JsonArray;
        if (string.IsNullOrEmpty(clientId) || string.IsNullOrEmpty(to) || items is not [{ } item] || item["type"]?.GetValue<int>() is not (1 or 2 or 4)
            || msg?["message_type"]?.GetValue<int>() != 2 || msg?["message_state"]?.GetValue<int>() != 2 || body?["base_info"] is null)
        {
            Error("sendmessage without client_id, to_user_id, one text, image or file item, message_type 2, message_state 2 or base_info");
            return Results.Json(new { ret = -1, errmsg = "bad request" });
        }

        var text = item["text_item"]?["text"]?.GetValue<string>() ?? "";
        return Locked(() =>
        {
            if (_sendErrors.TryDequeue(out var ret))
            {
                return Results.Json(new { ret, errmsg = ret == -2 ? "rate limited" : "error" });
            }

            _sendAttempts[clientId] = _sendAttempts.GetValueOrDefault(clientId) + 1;
            // The client id makes a send idempotent: a repeat is acknowledged, not shown again.
            if (!_sent.Any(s => s.ClientId == clientId))
            {
                var media = item["type"]!.GetValue<int>() == 1 ? null : item.DeepClone().AsObject();
                _sent.Add(new ILinkSent(to, msg?["context_token"]?.GetValue<string>(), clientId, text, media));
            }

            if (_dropSendResponses > 0)
            {
                _dropSendResponses--;
                return Results.StatusCode(StatusCodes.Status500InternalServerError);
            }

            return Results.Json(new { ret = 0, errmsg = "" });
        });
    }

    private async Task<IResult> GetConfigAsync(HttpContext context)
    {
        var body = await ReadAsync(context, authenticated: true);
        if (Expired(context) is { } expired)
        {
            return expired;
        }

        var user = body?["ilink_user_id"]?.GetValue<string>();
        if (string.IsNullOrEmpty(user))
        {
            Error("getconfig without ilink_user_id");
        }

        return Results.Json(new { ret = 0, typing_ticket = Convert.ToBase64String(Encoding.UTF8.GetBytes("ticket:" + user)) });
    }

    private async Task<IResult> SendTypingAsync(HttpContext context)
    {
        var body = await ReadAsync(context, authenticated: true);
        if (Expired(context) is { } expired)
        {
            return expired;
        }

        var user = body?["ilink_user_id"]?.GetValue<string>() ?? "";
        var ticket = body?["typing_ticket"]?.GetValue<string>() ?? "";
        var status = body?["status"]?.GetValue<int>() ?? 0;
        if (ticket != Convert.ToBase64String(Encoding.UTF8.GetBytes("ticket:" + user)) || status is not (1 or 2))
        {
            Error("sendtyping with a ticket getconfig did not issue for the user, or a status other than 1 or 2");
        }

        Locked(() => _typing.Add(new ILinkTyping(user, ticket, status)));
        return Results.Json(new { ret = 0 });
    }

    private async Task<IResult> GetUploadUrlAsync(HttpContext context)
    {
        var body = await ReadAsync(context, authenticated: true);
        if (Expired(context) is { } expired)
        {
            return expired;
        }

        var fileKey = body?["filekey"]?.GetValue<string>();
        var keyHex = body?["aeskey"]?.GetValue<string>();
        var md5 = body?["rawfilemd5"]?.GetValue<string>();
        var rawSize = body?["rawsize"]?.GetValue<long>() ?? -1;
        var fileSize = body?["filesize"]?.GetValue<long>() ?? -1;
        if (string.IsNullOrEmpty(fileKey) || keyHex is not { Length: 32 } || md5 is not { Length: 32 } || rawSize < 0
            || fileSize != (rawSize / 16 + 1) * 16 || body?["media_type"]?.GetValue<int>() is not (1 or 2 or 3 or 4)
            || string.IsNullOrEmpty(body?["to_user_id"]?.GetValue<string>()) || body?["base_info"] is null)
        {
            Error("getuploadurl without filekey, a 32-hex aeskey, rawfilemd5, rawsize, the padded filesize, media_type, to_user_id or base_info");
            return Results.Json(new { ret = -1, errmsg = "bad request" });
        }

        return Locked(() =>
        {
            var param = "up-" + _uploads.Count.ToString(CultureInfo.InvariantCulture);
            _uploads[param] = (fileKey, Convert.FromHexString(keyHex), rawSize, md5, fileSize);
            return Results.Json(new { ret = 0, upload_param = param });
        });
    }

    private async Task<IResult> CdnUploadAsync(HttpContext context)
    {
        var param = context.Request.Query["encrypted_query_param"].ToString();
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer);
        var cipher = buffer.ToArray();
        if (context.Request.ContentType != "application/octet-stream")
        {
            Error("CDN upload: Content-Type is not application/octet-stream");
        }

        return Locked(() =>
        {
            if (!_uploads.TryGetValue(param, out var upload) || context.Request.Query["filekey"] != upload.FileKey)
            {
                Error("CDN upload with an upload_param or filekey getuploadurl did not issue");
                return Results.StatusCode(StatusCodes.Status400BadRequest);
            }

            using var aes = System.Security.Cryptography.Aes.Create();
            aes.Key = upload.Key;
            var plain = aes.DecryptEcb(cipher, System.Security.Cryptography.PaddingMode.PKCS7);
#pragma warning disable CA5351 // The protocol's checksum (rawfilemd5).
            if (cipher.Length != upload.FileSize || plain.Length != upload.RawSize
                || Convert.ToHexStringLower(System.Security.Cryptography.MD5.HashData(plain)) != upload.Md5)
            {
                Error("CDN upload: the ciphertext does not decrypt to the announced size and MD5");
            }
            else
            {
                VerifiedUploads++;
            }
#pragma warning restore CA5351

            var download = "dl-" + param;
            _cdn[download] = cipher;
            context.Response.Headers["x-encrypted-param"] = download;
            return Results.Ok();
        });
    }

    private IResult CdnDownload(HttpContext context) =>
        Locked(() => _cdn.TryGetValue(context.Request.Query["encrypted_query_param"].ToString(), out var cipher)
            ? Results.Bytes(cipher, "application/octet-stream")
            : Results.NotFound());

    private IResult? Expired(HttpContext context)
    {
        var token = context.Request.Headers.Authorization.ToString();
        return Locked(() => token.StartsWith("Bearer ", StringComparison.Ordinal) && _validTokens.Contains(token["Bearer ".Length..])
            ? null
            : Results.Json(new { ret = -14, errcode = -14, errmsg = "session timeout" }));
    }

    private async Task<JsonObject?> ReadAsync(HttpContext context, bool authenticated)
    {
        CheckHeaders(context, authenticated);
        if (!(context.Request.ContentType ?? "").StartsWith("application/json", StringComparison.Ordinal))
        {
            Error($"{context.Request.Path}: Content-Type is not application/json");
        }

        try
        {
            return (await JsonNode.ParseAsync(context.Request.Body))?.AsObject();
        }
        catch (System.Text.Json.JsonException)
        {
            Error($"{context.Request.Path}: the body is not JSON");
            return null;
        }
    }

    private void CheckHeaders(HttpContext context, bool authenticated)
    {
        var h = context.Request.Headers;
        var path = context.Request.Path.Value;
        if (h["AuthorizationType"] != "ilink_bot_token" || h["iLink-App-Id"] != "bot" || !int.TryParse(h["iLink-App-ClientVersion"], NumberStyles.None, CultureInfo.InvariantCulture, out _))
        {
            Error($"{path}: AuthorizationType, iLink-App-Id or iLink-App-ClientVersion missing or wrong");
        }

        try
        {
            var uin = Encoding.ASCII.GetString(Convert.FromBase64String(h["X-WECHAT-UIN"].ToString()));
            if (!uint.TryParse(uin, NumberStyles.None, CultureInfo.InvariantCulture, out _))
            {
                Error($"{path}: X-WECHAT-UIN is not base64 of a decimal uint32");
            }
        }
        catch (FormatException)
        {
            Error($"{path}: X-WECHAT-UIN is not base64");
        }

        if (authenticated != h.Authorization.ToString().StartsWith("Bearer ", StringComparison.Ordinal))
        {
            Error($"{path}: Authorization {(authenticated ? "missing" : "sent on an unauthenticated call")}");
        }
    }

    private static int Position(string? cursor) =>
        cursor is { Length: > 2 } && cursor.StartsWith("c:", StringComparison.Ordinal) ? int.Parse(cursor[2..], CultureInfo.InvariantCulture) : 0;

    private void Error(string what) => Locked(() => _protocolErrors.Add(what));

    private T Locked<T>(Func<T> action)
    {
        lock (_gate)
        {
            return action();
        }
    }

    private void Locked(Action action)
    {
        lock (_gate)
        {
            action();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
