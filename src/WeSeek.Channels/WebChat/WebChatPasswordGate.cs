using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace WeSeek.Channels.WebChat;

/// <summary>
/// The web chat's optional password (<c>WebChat:Password</c>). Without a valid session cookie the page is a
/// password form and the API answers 401; a right password sets an HttpOnly, SameSite=Strict cookie holding its
/// expiry and an HMAC of it. Wrong passwords are limited per address (<c>WebChat:LoginAttemptsPerMinute</c>).
/// </summary>
/// <remarks>
/// Written by hand rather than with ASP.NET Core's cookie authentication: that needs a Data Protection key ring
/// on disk for what is one shared password. Here the HMAC key is derived from the password itself, so sessions
/// survive a restart, and changing the password ends them all. One cookie lets an attacker test password guesses
/// offline, so the derivation is PBKDF2-HMAC-SHA256 at <see cref="Iterations"/> (OWASP's 2023 figure), computed
/// once at start-up: each guess costs the attacker the same, about a quarter of a second of one core.
/// </remarks>
internal sealed partial class WebChatPasswordGate : IDisposable
{
    public const string CookieName = "weseek_webchat";
    private const string LoginPath = "/api/webchat/login";

    /// <summary>PBKDF2 iterations of the session key: OWASP's Password Storage Cheat Sheet (2023) for
    /// PBKDF2-HMAC-SHA256.</summary>
    internal const int Iterations = 600_000;

    /// <summary>Fixed, so that sessions survive restarts without state on disk; it separates this use of the
    /// password from any other, not one install from another.</summary>
    internal static readonly byte[] Salt = "weseek webchat session"u8.ToArray();

    private readonly WebChatOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<WebChatPasswordGate> _logger;
    private readonly byte[]? _passwordHash;
    private readonly byte[]? _sessionKey;
    private readonly PartitionedRateLimiter<IPAddress> _attempts;

    public WebChatPasswordGate(IOptions<WebChatOptions> options, TimeProvider time, ILogger<WebChatPasswordGate> logger)
    {
        _options = options.Value;
        _time = time;
        _logger = logger;
        if (!string.IsNullOrEmpty(_options.Password))
        {
            var password = Encoding.UTF8.GetBytes(_options.Password);
            _passwordHash = SHA256.HashData(password);
            _sessionKey = Rfc2898DeriveBytes.Pbkdf2(password, Salt, Iterations, HashAlgorithmName.SHA256, 32);
        }

        var perMinute = _options.LoginAttemptsPerMinute;
        _attempts = PartitionedRateLimiter.Create<IPAddress, IPAddress>(address => RateLimitPartition.GetFixedWindowLimiter(address, _ => new FixedWindowRateLimiterOptions
        {
            PermitLimit = perMinute,
            Window = TimeSpan.FromMinutes(1),
            QueueLimit = 0,
        }));
    }

    public bool Enabled => _sessionKey is not null;

    /// <summary>Lets the request through (true), or answers it: the form, a login, or 401.</summary>
    public async Task<bool> AdmitAsync(HttpContext context)
    {
        if (!Enabled || HasSession(context.Request))
        {
            return true;
        }

        if (context.Request.Path.Equals(LoginPath, StringComparison.Ordinal) && HttpMethods.IsPost(context.Request.Method))
        {
            await LoginAsync(context);
        }
        else if (context.Request.Path.StartsWithSegments("/api/webchat", StringComparison.Ordinal))
        {
            await Results.Problem(detail: "The web chat needs its password: log in on the page first.", statusCode: StatusCodes.Status401Unauthorized, title: "Password required").ExecuteAsync(context);
        }
        else
        {
            await WriteFormAsync(context, StatusCodes.Status401Unauthorized, null);
        }

        return false;
    }

    private async Task LoginAsync(HttpContext context)
    {
        var address = context.Connection.RemoteIpAddress ?? IPAddress.None;
        // Every attempt takes a permit, before the password is looked at: a guesser cannot keep trying once limited.
        using var lease = _attempts.AttemptAcquire(address);
        if (!lease.IsAcquired)
        {
            Log.Limited(_logger, address);
            context.Response.Headers.RetryAfter = "60";
            await WriteFormAsync(context, StatusCodes.Status429TooManyRequests, "尝试次数过多，请一分钟后再试。Too many attempts: wait a minute.");
            return;
        }

        string? presented = null;
        if (context.Request.HasFormContentType)
        {
            var form = await context.Request.ReadFormAsync(context.RequestAborted);
            presented = form["password"].ToString();
        }

        if (presented is not null && CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(presented)), _passwordHash))
        {
            var expires = _time.GetUtcNow() + _options.SessionLifetime;
            context.Response.Cookies.Append(CookieName, Token(expires), new CookieOptions
            {
                HttpOnly = true,
                SameSite = SameSiteMode.Strict,
                Secure = context.Request.IsHttps,
                Expires = expires,
                Path = "/",
            });
            context.Response.Redirect("/", permanent: false);
            context.Response.StatusCode = StatusCodes.Status303SeeOther;
            return;
        }

        Log.Refused(_logger, address);
        await WriteFormAsync(context, StatusCodes.Status401Unauthorized, "密码不正确。Wrong password.");
    }

    private bool HasSession(HttpRequest request)
    {
        if (!request.Cookies.TryGetValue(CookieName, out var cookie) || cookie.Length > 200)
        {
            return false;
        }

        Span<byte> token = stackalloc byte[8 + 32];
        if (!System.Buffers.Text.Base64Url.TryDecodeFromChars(cookie, token, out var written) || written != token.Length)
        {
            return false;
        }

        var expires = BitConverter.ToInt64(token[..8]);
        Span<byte> expected = stackalloc byte[32];
        HMACSHA256.HashData(_sessionKey, token[..8], expected);
        return CryptographicOperations.FixedTimeEquals(expected, token[8..]) && expires > _time.GetUtcNow().ToUnixTimeSeconds();
    }

    private string Token(DateTimeOffset expires)
    {
        var token = new byte[8 + 32];
        BitConverter.TryWriteBytes(token.AsSpan(0, 8), expires.ToUnixTimeSeconds());
        HMACSHA256.HashData(_sessionKey, token.AsSpan(0, 8), token.AsSpan(8));
        return System.Buffers.Text.Base64Url.EncodeToString(token);
    }

    private static Task WriteFormAsync(HttpContext context, int status, string? error)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/html; charset=utf-8";
        var message = error is null ? "" : $"<p class=\"error\">{WebUtility.HtmlEncode(error)}</p>";
        return context.Response.WriteAsync(string.Create(CultureInfo.InvariantCulture, $$"""
            <!doctype html>
            <html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>WeSeek</title>
            <style>
              body { font: 16px/1.5 system-ui, "PingFang SC", "Microsoft YaHei", sans-serif; background: #f6f8fa; display: grid; place-items: center; min-height: 100vh; margin: 0; }
              form { background: #fff; border: 1px solid #d0d7de; border-radius: 8px; padding: 24px; display: grid; gap: 12px; width: 280px; }
              input, button { font: inherit; padding: 8px; border-radius: 6px; border: 1px solid #d0d7de; }
              button { background: #07c160; color: #fff; border-color: #07c160; cursor: pointer; }
              .error { color: #cf222e; margin: 0; }
            </style></head>
            <body><form method="post" action="{{LoginPath}}">
              <strong>WeSeek 网页聊天 Web chat</strong>
              <label for="password">密码 Password</label>
              <input id="password" name="password" type="password" autocomplete="current-password" autofocus required>
              {{message}}
              <button type="submit">进入 Enter</button>
            </form></body></html>
            """), context.RequestAborted);
    }

    public void Dispose() => _attempts.Dispose();

    private static partial class Log
    {
        [LoggerMessage(ChannelEventId.WebChatLoginRefused, LogLevel.Warning, "Web chat login refused for {Address}: wrong password")]
        public static partial void Refused(ILogger logger, IPAddress address);

        [LoggerMessage(ChannelEventId.WebChatLoginLimited, LogLevel.Warning, "Web chat login from {Address} refused: too many attempts this minute")]
        public static partial void Limited(ILogger logger, IPAddress address);
    }
}
