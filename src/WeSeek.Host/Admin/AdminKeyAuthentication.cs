using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using WeSeek.Logging;
using WeSeek.Security;

namespace WeSeek.Host.Admin;

/// <summary>
/// ASP.NET Core authentication for the admin API: the key comes as <c>Authorization: Bearer wsk_…</c> (or
/// <c>X-Api-Key</c>) and is checked against the hashes in <see cref="AdminKeys"/>. A refusal says what to do:
/// send a key, or create the first one.
/// </summary>
internal sealed partial class AdminKeyAuthentication : AuthenticationHandler<AuthenticationSchemeOptions>
{
    public const string SchemeName = "AdminKey";
    public const string Policy = "admin";

    private readonly AdminKeys _keys;

    public AdminKeyAuthentication(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, AdminKeys keys)
        : base(options, logger, encoder)
    {
        _keys = keys;
    }

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (Presented(Request) is not { } presented)
        {
            return AuthenticateResult.NoResult();
        }

        if (await _keys.AuthenticateAsync(presented, Context.RequestAborted) is not { } key)
        {
            Log.Refused(Logger, Request.Path);
            return AuthenticateResult.Fail("The API key is not valid or was revoked.");
        }

        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, key.Name), new Claim("key_id", key.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)), new Claim(ClaimTypes.Role, key.Role.Name())], SchemeName);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = "Bearer";
        var detail = Presented(Request) is not null
            ? "The API key is not valid or was revoked. List keys with `weseek admin key list`."
            : await _keys.AnyActiveAsync(Context.RequestAborted)
                ? "Send an admin API key: Authorization: Bearer wsk_…"
                : "No admin API key exists yet. Create one with `weseek admin key create --name <who>` and send it as Authorization: Bearer wsk_…";
        await Results.Problem(detail: detail, statusCode: StatusCodes.Status401Unauthorized, title: "Admin API key required").ExecuteAsync(Context);
    }

    private static string? Presented(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return header["Bearer ".Length..].Trim();
        }

        return request.Headers.TryGetValue("X-Api-Key", out var value) && value.ToString() is { Length: > 0 } key ? key.Trim() : null;
    }

    private static partial class Log
    {
        [LoggerMessage(WeSeekEventId.AdminKeyRefused, LogLevel.Warning, "Admin request to {Path} refused: the API key is not valid or was revoked")]
        public static partial void Refused(ILogger logger, PathString path);
    }
}
