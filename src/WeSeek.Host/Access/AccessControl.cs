using System.Diagnostics.Metrics;
using System.ComponentModel.DataAnnotations;
using System.Net;
using Microsoft.Extensions.Options;

namespace WeSeek.Host.Access;

/// <summary>
/// Who may reach which endpoints, by client address. Section <c>Access</c>: each group lists the networks
/// allowed (CIDR, IPv4 or IPv6; a bare address is one host). A request is matched to the group with the
/// longest path prefix; a group with no networks is open. Defaults: <c>/metrics</c> and the admin endpoints
/// (<c>/api/ilink</c>, <c>/admin</c>) answer loopback only; everything else is open, as the host itself binds
/// 127.0.0.1 unless told otherwise. Behind a reverse proxy the address checked is the proxy's unless
/// forwarded headers are configured.
/// </summary>
public sealed class AccessOptions : IValidatableObject
{
    /// <summary>Loopback in both families.</summary>
    public static readonly string[] Loopback = ["127.0.0.0/8", "::1/128"];

    /// <summary>The groups by name.</summary>
    public IDictionary<string, AccessGroupOptions> Groups { get; } = new Dictionary<string, AccessGroupOptions>(StringComparer.OrdinalIgnoreCase)
    {
        ["metrics"] = new() { Paths = { "/metrics" } },
        ["admin"] = new() { Paths = { "/api/ilink", "/admin" } },
        ["health"] = new() { Paths = { "/health" } },
        ["webchat"] = new() { Paths = { "/", "/api/webchat" } },
        ["wechat"] = new() { Paths = { "/wechat", "/onebot" } },
        ["model"] = new() { Paths = { "/v1" } },
    };

    /// <summary>
    /// Host names answered besides <c>localhost</c> and IP address literals, which always are
    /// (<c>WESEEK__Access__AllowedHosts__0=chat.example.com</c>; <c>*.example.com</c> for a domain's subdomains,
    /// <c>*</c> for any). Default empty: no other name, which refuses DNS rebinding (a web page reaching a
    /// loopback-bound WeSeek under the attacker's host name) while access by address keeps working (a Kubernetes
    /// probe names the pod by its address). Set it to the name WeChat's callback URL or the browser uses.
    /// </summary>
    public IList<string> AllowedHosts { get; } = [];

    /// <summary>The networks of each group after configuration: a default group left unconfigured keeps its
    /// default (loopback for metrics and admin).</summary>
    internal IReadOnlyList<(string Path, string Group, IPNetwork[]? Allowed, int? Port)> Compile()
    {
        var rules = new List<(string, string, IPNetwork[]?, int?)>();
        foreach (var (name, group) in Groups)
        {
            var allow = group.Allow.Count > 0 ? group.Allow : (name is "metrics" or "admin" ? Loopback : []);
            IPNetwork[]? networks = allow.Count == 0 || allow.Contains("*") ? null : [.. allow.Select(Parse)];
            rules.AddRange(group.Paths.Select(path => (path.TrimEnd('/'), name, networks, group.Port)));
        }

        // Longest prefix first.
        return [.. rules.OrderByDescending(r => r.Item1.Length)];
    }

    internal static IPNetwork Parse(string cidr) =>
        cidr.Contains('/', StringComparison.Ordinal) ? IPNetwork.Parse(cidr) : new IPNetwork(IPAddress.Parse(cidr), IPAddress.Parse(cidr).AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128);

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        for (var i = 0; i < AllowedHosts.Count; i++)
        {
            var host = AllowedHosts[i];
            if (host.Length == 0 || host.Contains(':', StringComparison.Ordinal) || host.Contains('/', StringComparison.Ordinal) || (host.Contains('*', StringComparison.Ordinal) && host != "*" && !(host.StartsWith("*.", StringComparison.Ordinal) && host.LastIndexOf('*') == 0)))
            {
                yield return new ValidationResult($"'{host}' is not a host name such as chat.example.com, *.example.com or * (WESEEK__Access__AllowedHosts__{i}; no scheme or port)", [$"AllowedHosts:{i}"]);
            }
        }

        foreach (var (name, group) in Groups)
        {
            for (var i = 0; i < group.Allow.Count; i++)
            {
                if (group.Allow[i] != "*" && !IPNetwork.TryParse(group.Allow[i], out _) && !IPAddress.TryParse(group.Allow[i], out _))
                {
                    yield return new ValidationResult($"'{group.Allow[i]}' is not a network such as 10.0.0.0/8, 2001:db8::/32 or 192.0.2.7", [$"Groups:{name}:Allow:{i}"]);
                }
            }

            if (group.Port is < 1 or > 65535)
            {
                yield return new ValidationResult($"{group.Port} is not a TCP port (1-65535)", [$"Groups:{name}:Port"]);
            }

            foreach (var path in group.Paths.Where(p => !p.StartsWith('/')))
            {
                yield return new ValidationResult($"'{path}' must start with /", [$"Groups:{name}:Paths"]);
            }
        }
    }
}

/// <summary>One group of endpoints.</summary>
public sealed class AccessGroupOptions
{
    /// <summary>Path prefixes of the group's endpoints.</summary>
    public IList<string> Paths { get; } = [];

    /// <summary>Networks allowed (CIDR or an address; <c>*</c> for everyone). Empty: the group's default.</summary>
    public IList<string> Allow { get; } = [];

    /// <summary>
    /// The only local port the group's endpoints answer on (404 on any other), for example
    /// <c>WESEEK__Access__Groups__metrics__Port=9464</c> with <c>--urls "http://0.0.0.0:8080;http://0.0.0.0:9464"</c>:
    /// a Kubernetes NetworkPolicy, which sees ports and not paths, can then open <c>/metrics</c> to the monitoring
    /// namespace alone. The local port of the connection is checked, not the Host header, which the client
    /// writes. Default none: every port the host listens on.
    /// </summary>
    public int? Port { get; set; }
}

/// <summary>Answers 403 to a client outside its endpoint group's networks (<see cref="AccessOptions"/>).</summary>
internal sealed partial class AccessControlMiddleware
{
    private readonly RequestDelegate _next;
    private readonly IReadOnlyList<(string Path, string Group, IPNetwork[]? Allowed, int? Port)> _rules;
    private readonly ILogger<AccessControlMiddleware> _logger;
    private readonly Counter<long> _denied;

    public AccessControlMiddleware(RequestDelegate next, IOptions<AccessOptions> options, IMeterFactory meters, ILogger<AccessControlMiddleware> logger)
    {
        _next = next;
        _rules = options.Value.Compile();
        _logger = logger;
        _denied = meters.Create(WeSeek.Operations.WeSeekMetrics.MeterName).CreateCounter<long>(
            "weseek.access.denied", "{request}", "Requests answered 403 by the address allow-lists, by endpoint group.");
    }

    public Task InvokeAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? "/";
        foreach (var (prefix, group, allowed, port) in _rules)
        {
            if (!Matches(path, prefix))
            {
                continue;
            }

            if (port is { } only && context.Connection.LocalPort != only)
            {
                // Not there at all on this port: the group lives on its own listener.
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return Task.CompletedTask;
            }

            if (allowed is null || IsAllowed(context.Connection.RemoteIpAddress, allowed))
            {
                break;
            }

            Log.Denied(_logger, group);
            _denied.Add(1, new KeyValuePair<string, object?>("group", group));
            context.Response.StatusCode = StatusCodes.Status403Forbidden;
            return context.Response.WriteAsync($"403: this address may not use the {group} endpoints (Access:Groups:{group}:Allow).");
        }

        return _next(context);
    }

    private static bool Matches(string path, string prefix) =>
        prefix.Length == 0
        || path.Equals(prefix, StringComparison.OrdinalIgnoreCase)
        || path.StartsWith(prefix + "/", StringComparison.OrdinalIgnoreCase);

    internal static bool IsAllowed(IPAddress? address, IPNetwork[] allowed)
    {
        if (address is null)
        {
            // No socket (in-process test server): nothing to check against.
            return true;
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        return allowed.Any(network => network.Contains(address));
    }

    private static partial class Log
    {
        [LoggerMessage(WeSeek.Logging.WeSeekEventId.AccessDenied, LogLevel.Warning, "Refused a request to the {Group} endpoints: the client is outside the group's networks (Access:Groups:{Group}:Allow)")]
        public static partial void Denied(ILogger logger, string group);
    }
}
