using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WeSeek.Channels.OneBot;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps the OneBot 12 reverse WebSocket.</summary>
public static partial class OneBotEndpoints
{
    /// <summary>The path an implementation connects to (ComWeChatBotClient's default; routing also matches it with the trailing slash).</summary>
    public const string Path = "/onebot/v12/ws";

    /// <summary>In Reverse mode, maps <c>/onebot/v12/ws</c>: the implementation connects with
    /// <c>Authorization: Bearer {token}</c> (or <c>?access_token=</c>) and <c>Sec-WebSocket-Protocol: 12.{impl}</c>,
    /// which is echoed. A wrong or missing token is answered 401 before the upgrade.</summary>
    public static WebApplication MapOneBot(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var options = app.Services.GetRequiredService<IOptions<OneBotOptions>>().Value;
        if (options.Mode != OneBotMode.Reverse)
        {
            return app;
        }

        app.UseWebSockets();
        app.Map(Path, AcceptAsync);
        return app;
    }

    private static async Task AcceptAsync(HttpContext context, OneBotChannel channel, IOptions<OneBotOptions> options, ILoggerFactory loggers)
    {
        var logger = loggers.CreateLogger("WeSeek.Channels.OneBot");
        if (!Authorized(context.Request, options.Value.AccessToken))
        {
            Log.Rejected(logger, context.Connection.RemoteIpAddress?.ToString() ?? "?");
            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            return;
        }

        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            await context.Response.WriteAsync("OneBot 12 reverse WebSocket: connect with a WebSocket client.", context.RequestAborted);
            return;
        }

        // Echo the implementation's 12.<impl> subprotocol: some implementations drop a connection without it.
        var subProtocol = context.WebSockets.WebSocketRequestedProtocols.FirstOrDefault(p => p.StartsWith("12.", StringComparison.Ordinal));
        using var socket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext { SubProtocol = subProtocol });
        await channel.RunConnectionAsync(socket, subProtocol?[3..], context.RequestAborted);
    }

    /// <summary>The token from <c>Authorization: Bearer</c>, or when that header is absent from <c>?access_token=</c>,
    /// compared in constant time.</summary>
    internal static bool Authorized(HttpRequest request, string? expected)
    {
        if (string.IsNullOrEmpty(expected))
        {
            return false;
        }

        string? given;
        if (request.Headers.Authorization is { Count: > 0 } header)
        {
            var value = header.ToString();
            // The scheme is case-insensitive (RFC 9110 §11.1): "bearer" and "BEARER" are "Bearer".
            given = value.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? value["Bearer ".Length..].Trim() : null;
        }
        else
        {
            given = request.Query["access_token"].ToString();
        }

        return given is not null && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(given), Encoding.UTF8.GetBytes(expected));
    }

    private static partial class Log
    {
        [LoggerMessage(WeSeek.Channels.ChannelEventId.OneBotRejected, LogLevel.Warning, "OneBot: a connection from {Remote} was refused (wrong or missing access_token)")]
        public static partial void Rejected(ILogger logger, string remote);
    }
}
