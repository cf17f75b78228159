using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
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

/// <summary>
/// The implementation side of OneBot 12 (what ComWeChatBotClient is), written from the spec (botuniverse/onebot,
/// specs/connect/communication/websocket*.md, data-protocol/*.md): over a WebSocket it sends <c>meta.connect</c>
/// first, then the events a test pushes, and answers each action request with
/// <c>{"status":"ok","retcode":0,"data":…,"echo":…}</c> (or <c>failed</c> when told to), recording it. In reverse
/// mode it connects to WeSeek with <c>Authorization: Bearer</c> and <c>Sec-WebSocket-Protocol: 12.fake</c>; in
/// forward mode it listens on loopback and WeSeek connects. Thread-safe.
/// </summary>
public sealed class FakeOneBotImplementation : IAsyncDisposable
{
    /// <summary>The bot's own user id, sent as <c>self.user_id</c>.</summary>
    public const string SelfId = "wxid_bot";

    private readonly List<JsonObject> _actions = [];
    private readonly List<JsonObject> _requests = [];
    private readonly List<string> _errors = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private WebApplication? _server;
    private WebSocket? _socket;
    private Task _reader = Task.CompletedTask;
    private readonly List<JsonObject> _held = [];
    private int _holdNext;
    private int _answersSent;
    private int _failNext;
    private int _ignoreNext;
    private volatile bool _ignoreAny;
    private int _connections;
    private long _sequence;

    private FakeOneBotImplementation() { }

    /// <summary><c>send_message</c> requests received, in order.</summary>
    public IReadOnlyList<JsonObject> Actions { get { lock (_actions) { return [.. _actions]; } } }

    /// <summary>Every action request received (<c>get_self_info</c>, <c>get_status</c>, …), in order.</summary>
    public IReadOnlyList<JsonObject> Requests { get { lock (_actions) { return [.. _requests]; } } }

    /// <summary>Requests that broke the protocol (no echo, not JSON).</summary>
    public IReadOnlyList<string> ProtocolErrors { get { lock (_errors) { return [.. _errors]; } } }

    /// <summary>The subprotocol the server accepted.</summary>
    public string? SubProtocol => _socket is ClientWebSocket client ? client.SubProtocol : null;

    /// <summary>WebSockets accepted in forward mode.</summary>
    public int Connections => Volatile.Read(ref _connections);

    /// <summary>The most forward-mode WebSockets that were open at once.</summary>
    public int MaxOpenConnections { get { lock (_errors) { return _maxOpen; } } }

    private int _open;
    private int _maxOpen;

    /// <summary>The forward-mode URL (<c>ws://127.0.0.1:port/</c>).</summary>
    public Uri? Url { get; private set; }

    /// <summary>True while a WebSocket is open.</summary>
    public bool IsConnected => _socket?.State == WebSocketState.Open;

    /// <summary>The next <paramref name="count"/> <c>send_message</c>s are answered <c>status: failed</c>, retcode 34001.</summary>
    public void FailNextActions(int count) => Interlocked.Exchange(ref _failNext, count);

    /// <summary>The next <paramref name="count"/> <c>send_message</c>s (or, when <paramref name="anyAction"/>, actions
    /// of any kind) are recorded and never answered.</summary>
    public void IgnoreNextActions(int count, bool anyAction = false)
    {
        _ignoreAny = anyAction;
        Interlocked.Exchange(ref _ignoreNext, count);
    }

    /// <summary>Message events leave out <c>self</c> (the spec allows it when an implementation serves one bot):
    /// WeSeek then has to learn its own id by <c>get_self_info</c>.</summary>
    public bool OmitSelf { get; set; }

    /// <summary>Whether the account is online, as <c>get_status</c> reports it. Default true.</summary>
    public bool Online { get; set; } = true;

    /// <summary>The next <paramref name="count"/> answers are held until <see cref="ReleaseHeldInReverseAsync"/>.</summary>
    public void HoldNextAnswers(int count) => Interlocked.Exchange(ref _holdNext, count);

    /// <summary>Answers sent so far (held ones once released).</summary>
    public int AnswersSent => Volatile.Read(ref _answersSent);

    /// <summary>Answers held so far.</summary>
    public int HeldCount { get { lock (_held) { return _held.Count; } } }

    /// <summary>Sends the held answers, the last request's first: echo, not order, must match them.</summary>
    public async Task ReleaseHeldInReverseAsync()
    {
        List<JsonObject> held;
        lock (_held)
        {
            held = [.. _held];
            _held.Clear();
        }

        held.Reverse();
        foreach (var answer in held)
        {
            await SendAsync(answer);
            Interlocked.Increment(ref _answersSent);
        }
    }

    /// <summary>A <c>meta.status_update</c> event.</summary>
    public Task SendStatusUpdateAsync(bool good, bool online) =>
        SendEventAsync(new JsonObject
        {
            ["type"] = "meta", ["detail_type"] = "status_update", ["sub_type"] = "",
            ["status"] = new JsonObject { ["good"] = good, ["bots"] = new JsonArray(new JsonObject { ["self"] = Self(), ["online"] = online }) },
        });

    /// <summary>Connects to WeSeek's <c>/onebot/v12/ws</c> and sends <c>meta.connect</c>.</summary>
    public static async Task<FakeOneBotImplementation> ConnectAsync(Uri weseek, string token, bool tokenInQuery = false)
    {
        var fake = new FakeOneBotImplementation();
        var socket = new ClientWebSocket();
        socket.Options.AddSubProtocol("12.fake");
        socket.Options.SetRequestHeader("User-Agent", "OneBot/12 (wechat) FakeOneBot/1.0");
        var uri = new UriBuilder(weseek) { Scheme = "ws", Path = "/onebot/v12/ws" };
        if (tokenInQuery)
        {
            uri.Query = "access_token=" + Uri.EscapeDataString(token);
        }
        else
        {
            socket.Options.SetRequestHeader("Authorization", "Bearer " + token);
        }

        await socket.ConnectAsync(uri.Uri, CancellationToken.None);
        await fake.AttachAsync(socket);
        return fake;
    }

    /// <summary>Tries to connect with <paramref name="token"/> (none when null); the HTTP status of the handshake
    /// (101 when it was accepted).</summary>
    public static async Task<HttpStatusCode> TryConnectAsync(Uri weseek, string? token, string scheme = "Bearer")
    {
        using var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        socket.Options.AddSubProtocol("12.fake");
        if (token is not null)
        {
            socket.Options.SetRequestHeader("Authorization", scheme + " " + token);
        }

        try
        {
            await socket.ConnectAsync(new UriBuilder(weseek) { Scheme = "ws", Path = "/onebot/v12/ws" }.Uri, CancellationToken.None);
            await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "", CancellationToken.None);
        }
        catch (WebSocketException)
        {
        }

        return socket.HttpStatusCode;
    }

    /// <summary>Listens on loopback for WeSeek's forward connection; a wrong token is answered 401 before the upgrade.</summary>
    public static async Task<FakeOneBotImplementation> ListenAsync(string token)
    {
        var fake = new FakeOneBotImplementation();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.UseWebSockets();
        app.Map("/", async (HttpContext context) =>
        {
            if (context.Request.Headers.Authorization.ToString() != "Bearer " + token)
            {
                context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                return;
            }

            if (!context.WebSockets.IsWebSocketRequest)
            {
                context.Response.StatusCode = StatusCodes.Status400BadRequest;
                return;
            }

            var socket = await context.WebSockets.AcceptWebSocketAsync();
            Interlocked.Increment(ref fake._connections);
            var open = Interlocked.Increment(ref fake._open);
            lock (fake._errors)
            {
                fake._maxOpen = Math.Max(fake._maxOpen, open);
            }

            try
            {
                await fake.AttachAsync(socket);
                await fake._reader;
            }
            finally
            {
                Interlocked.Decrement(ref fake._open);
            }
        });
        await app.StartAsync();
        fake._server = app;
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        fake.Url = new UriBuilder(address) { Scheme = "ws", Path = "/" }.Uri;
        return fake;
    }

    private async Task AttachAsync(WebSocket socket)
    {
        _socket = socket;
        _reader = Task.Run(() => ReadAsync(socket), CancellationToken.None);
        await SendEventAsync(new JsonObject
        {
            ["type"] = "meta", ["detail_type"] = "connect", ["sub_type"] = "",
            ["version"] = new JsonObject { ["impl"] = "fake", ["version"] = "1.0.0", ["onebot_version"] = "12" },
        });
    }

    /// <summary>A <c>message.private</c> event.</summary>
    public Task SendPrivateMessageAsync(string userId, string messageId, string text) =>
        SendEventAsync(new JsonObject
        {
            ["type"] = "message", ["detail_type"] = "private", ["sub_type"] = "",
            ["message_id"] = messageId, ["user_id"] = userId, ["alt_message"] = text,
            ["message"] = new JsonArray(Text(text)),
        });

    /// <summary>A <c>message.group</c> event with the given segments (<see cref="Text"/>, <see cref="Mention"/>, …).</summary>
    public Task SendGroupMessageAsync(string groupId, string userId, string messageId, params JsonObject[] segments) =>
        SendEventAsync(new JsonObject
        {
            ["type"] = "message", ["detail_type"] = "group", ["sub_type"] = "",
            ["message_id"] = messageId, ["group_id"] = groupId, ["user_id"] = userId, ["alt_message"] = "",
            ["message"] = new JsonArray(segments),
        });

    /// <summary>The status of the close frame WeSeek sent, if it sent one (null when the connection just dropped).</summary>
    public WebSocketCloseStatus? ReceivedCloseStatus { get; private set; }

    /// <summary>A <c>meta.heartbeat</c> event.</summary>
    public Task SendHeartbeatAsync(int intervalMs) =>
        SendEventAsync(new JsonObject { ["type"] = "meta", ["detail_type"] = "heartbeat", ["sub_type"] = "", ["interval"] = intervalMs });

    public static JsonObject Text(string text) => Segment("text", new JsonObject { ["text"] = text });

    public static JsonObject Mention(string userId) => Segment("mention", new JsonObject { ["user_id"] = userId });

    public static JsonObject Image(string fileId) => Segment("image", new JsonObject { ["file_id"] = fileId });

    /// <summary>Any event; <c>id</c> and <c>time</c> are added, and <c>self</c> to a message unless <see cref="OmitSelf"/>.</summary>
    public async Task SendEventAsync(JsonObject e)
    {
        if (e["type"]?.GetValue<string>() == "message" && !OmitSelf)
        {
            e["self"] = Self();
        }

        e["id"] = "evt-" + Interlocked.Increment(ref _sequence).ToString(System.Globalization.CultureInfo.InvariantCulture);
        e["time"] = 1_700_000_000.5;
        await SendAsync(e);
    }

    /// <summary>Closes the WebSocket from the implementation's side.</summary>
    public async Task DisconnectAsync()
    {
        if (_socket is { State: WebSocketState.Open } socket)
        {
            await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);
        }
    }

    private static JsonObject Self() => new() { ["platform"] = "wechat", ["user_id"] = SelfId };

    private static JsonObject Segment(string type, JsonObject data) => new() { ["type"] = type, ["data"] = data };

    private async Task SendAsync(JsonObject frame)
    {
        var socket = _socket ?? throw new InvalidOperationException("Not connected.");
        await _sendLock.WaitAsync();
        try
        {
            await socket.SendAsync(Encoding.UTF8.GetBytes(frame.ToJsonString()), WebSocketMessageType.Text, true, CancellationToken.None);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    private async Task ReadAsync(WebSocket socket)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                using var frame = new MemoryStream();
                WebSocketReceiveResult result;
                do
                {
                    result = await socket.ReceiveAsync(buffer, _stop.Token);
                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        ReceivedCloseStatus = result.CloseStatus;
                        if (socket.State == WebSocketState.CloseReceived)
                        {
                            await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", CancellationToken.None);
                        }

                        return;
                    }

                    frame.Write(buffer, 0, result.Count);
                }
                while (!result.EndOfMessage);

                await AnswerAsync(Encoding.UTF8.GetString(frame.ToArray()));
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
        {
        }
    }

    private async Task AnswerAsync(string text)
    {
        JsonObject request;
        try
        {
            request = JsonNode.Parse(text)!.AsObject();
        }
        catch (JsonException)
        {
            lock (_errors) { _errors.Add("not JSON: " + text); }
            return;
        }

        var echo = request["echo"]?.GetValue<string>();
        if (string.IsNullOrEmpty(echo) || request["action"] is null)
        {
            lock (_errors) { _errors.Add("no echo or action: " + text); }
        }

        var isSend = request["action"]?.GetValue<string>() == "send_message";
        lock (_actions)
        {
            _requests.Add(request);
            if (isSend)
            {
                _actions.Add(request);
            }
        }

        if ((isSend || _ignoreAny) && Interlocked.Decrement(ref _ignoreNext) >= 0)
        {
            return;
        }

        var fail = isSend && Interlocked.Decrement(ref _failNext) >= 0;
        var response = fail
            ? new JsonObject { ["status"] = "failed", ["retcode"] = 34001, ["data"] = null, ["message"] = "platform error" }
            : new JsonObject { ["status"] = "ok", ["retcode"] = 0, ["data"] = Data(request["action"]?.GetValue<string>()), ["message"] = "" };
        if (!string.IsNullOrEmpty(echo))
        {
            response["echo"] = echo;
        }

        if (Interlocked.Decrement(ref _holdNext) >= 0)
        {
            lock (_held) { _held.Add(response); }
            return;
        }

        await SendAsync(response);
        Interlocked.Increment(ref _answersSent);
    }

    // Each action's data as specs/interface/*.md give it; an action this fake does not know is answered as
    // send_message is, which the tests of unknown actions do not rely on.
    private JsonObject Data(string? action)
    {
        int count;
        lock (_actions) { count = _actions.Count; }
        return action switch
        {
            "get_self_info" => new JsonObject { ["user_id"] = SelfId, ["user_name"] = "WeSeek", ["user_displayname"] = "" },
            "get_status" => new JsonObject
            {
                ["good"] = true,
                ["bots"] = new JsonArray(new JsonObject { ["self"] = Self(), ["online"] = Online }),
            },
            _ => new JsonObject { ["message_id"] = "sent-" + count, ["time"] = 1_700_000_001.0 },
        };
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await DisconnectAsync();
        }
        catch (WebSocketException)
        {
        }

        await _reader.ContinueWith(static _ => { }, TaskScheduler.Default);
        if (_server is null)
        {
            // A server-side socket belongs to its request, which ends with the server.
            _socket?.Dispose();
        }
        else
        {
            await _server.StopAsync();
            await _server.DisposeAsync();
        }

        _stop.Dispose();
        _sendLock.Dispose();
    }
}
