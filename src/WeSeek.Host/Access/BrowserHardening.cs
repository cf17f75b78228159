using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace WeSeek.Host.Access;

/// <summary>
/// What every response carries for browsers, and which <c>Host</c> headers are answered at all.
/// <list type="bullet">
/// <item>Content-Security-Policy: scripts only from this origin or the pages' own inline scripts (by hash, so
/// injected markup cannot run script), nothing loaded from elsewhere, no plugins, no framing.</item>
/// <item>X-Frame-Options <c>DENY</c> (for browsers without <c>frame-ancestors</c>), X-Content-Type-Options
/// <c>nosniff</c>, Referrer-Policy <c>no-referrer</c>: chat ids in URLs stay on this site.</item>
/// <item>A request whose <c>Host</c> is not allowed (<see cref="AccessOptions.AllowedHosts"/>) gets 400 before
/// anything else runs: a DNS-rebinding page reaches a loopback-bound WeSeek under the attacker's own name.</item>
/// </list>
/// </summary>
internal sealed partial class BrowserHardeningMiddleware
{
    // The pages whose inline scripts the policy admits, by embedded resource.
    private static readonly (Type Anchor, string Resource)[] Pages =
    [
        (typeof(WeSeek.Channels.WebChat.WebChatOptions), "WeSeek.Channels.WebChat.index.html"),
        (typeof(BrowserHardeningMiddleware), "WeSeek.Host.Admin.admin.html"),
    ];

    private readonly RequestDelegate _next;
    private readonly string _policy;
    private readonly string[] _allowedHosts;
    private readonly ILogger<BrowserHardeningMiddleware> _logger;

    public BrowserHardeningMiddleware(RequestDelegate next, IOptions<AccessOptions> options, ILogger<BrowserHardeningMiddleware> logger)
    {
        _next = next;
        _allowedHosts = [.. options.Value.AllowedHosts];
        _policy = Policy();
        _logger = logger;
    }

    public Task InvokeAsync(HttpContext context)
    {
        var host = context.Request.Host.Host;
        if (!IsAllowedHost(host, _allowedHosts))
        {
            Log.HostRefused(_logger);
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return context.Response.WriteAsync("400: this host name is not served here (Access:AllowedHosts).");
        }

        var headers = context.Response.Headers;
        headers.ContentSecurityPolicy = _policy;
        headers.XFrameOptions = "DENY";
        headers.XContentTypeOptions = "nosniff";
        headers["Referrer-Policy"] = "no-referrer";
        return _next(context);
    }

    /// <summary>
    /// True when <paramref name="host"/> may be served: loopback names (<c>localhost</c>, <c>*.localhost</c>), any
    /// IP address literal, and the listed names (<c>example.com</c>, <c>*.example.com</c>, or <c>*</c> for any),
    /// case-insensitive. A rebinding attack needs a name the attacker's DNS answers, so literals and loopback
    /// names are safe whether or not a list is configured, and access by address keeps working with one: a
    /// Kubernetes probe or a Prometheus scrape names the pod by its IP address.
    /// </summary>
    internal static bool IsAllowedHost(string host, IReadOnlyList<string> allowed)
    {
        if (string.IsNullOrEmpty(host))
        {
            // HTTP/1.0 without Host, or an in-process test server: nothing a browser sends.
            return true;
        }

        if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase)
            || host.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase)
            || IPAddress.TryParse(host.Trim('[', ']'), out _))
        {
            return true;
        }

        foreach (var entry in allowed)
        {
            if (entry == "*"
                || host.Equals(entry, StringComparison.OrdinalIgnoreCase)
                || (entry.StartsWith("*.", StringComparison.Ordinal) && host.EndsWith(entry[1..], StringComparison.OrdinalIgnoreCase)))
            {
                return true;
            }
        }

        return false;
    }

    private static string Policy()
    {
        var hashes = new StringBuilder();
        foreach (var (anchor, resource) in Pages)
        {
            using var stream = anchor.Assembly.GetManifestResourceStream(resource)
                ?? throw new InvalidOperationException($"The page {resource} is missing from the build.");
            using var reader = new StreamReader(stream, Encoding.UTF8);
            foreach (Match script in InlineScript().Matches(reader.ReadToEnd()))
            {
                hashes.Append(" 'sha256-").Append(Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(script.Groups[1].Value)))).Append('\'');
            }
        }

        // Styles stay 'unsafe-inline': the pages and the login form carry inline styles, and CSS cannot run script.
        return "default-src 'self'; script-src 'self'" + hashes + "; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
            + "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
    }

    [GeneratedRegex(@"<script>(.*?)</script>", RegexOptions.Singleline | RegexOptions.CultureInvariant)]
    private static partial Regex InlineScript();

    private static partial class Log
    {
        [LoggerMessage(WeSeek.Logging.WeSeekEventId.HostRefused, LogLevel.Warning, "Refused a request for a host name that is not served here (Access:AllowedHosts)")]
        public static partial void HostRefused(ILogger logger);
    }
}
