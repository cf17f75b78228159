using System.ComponentModel.DataAnnotations;

namespace WeSeek.Plugins.Http;

/// <summary>
/// The HTTP API plugin (<c>http</c>): declarative endpoints, each called when the turn's intent is its own.
/// Section <c>Plugins:Http</c>; the plugin is registered only when <c>Endpoints</c> names at least one endpoint.
/// </summary>
public sealed class HttpPluginOptions : IValidatableObject
{
    /// <summary>Endpoints by name; the name is what the answer cites (<c>来源：天气服务</c>).</summary>
    public IDictionary<string, HttpEndpointOptions> Endpoints { get; } = new Dictionary<string, HttpEndpointOptions>(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// Values for <c>{secret:NAME}</c> in headers and bodies (<c>Plugins:Http:Secrets:NAME</c>, or its environment
    /// variable <c>WESEEK__Plugins__Http__Secrets__NAME</c>); a name not here is read from the plain environment
    /// variable <c>NAME</c>. Never logged, masked in the configuration the audit log records.
    /// </summary>
    public IDictionary<string, string> Secrets { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>
    /// How long one call may take, headers and body, unless the endpoint sets its own. Default 3 s: under the 5 s
    /// a plugin has in all (<c>Plugins:Timeout</c>), so a slow API is reported as what it is.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:01:00")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>
    /// Largest response body read, in bytes, unless the endpoint sets its own; a bigger one is refused, and its
    /// reading stops at the cap. Default 256 KiB: a JSON answer a chat can use is a few KiB, and the cap keeps a
    /// misbehaving API from filling memory.
    /// </summary>
    [Range(1024, 16 * 1024 * 1024)]
    public int MaxResponseBytes { get; set; } = 256 * 1024;

    /// <summary>Most characters of one endpoint's passage. Default 1500, as the SQL plugin's.</summary>
    [Range(100, 20000)]
    public int MaxChars { get; set; } = 1500;

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var (name, endpoint) in Endpoints)
        {
            var key = $"{nameof(Endpoints)}:{name}";
            foreach (var problem in endpoint.Problems(Secrets))
            {
                yield return new ValidationResult(problem.Message, [$"{key}:{problem.Member}"]);
            }
        }

        foreach (var shared in Endpoints.GroupBy(e => e.Value.Intent ?? e.Key, StringComparer.OrdinalIgnoreCase).Where(g => g.Count() > 1))
        {
            yield return new ValidationResult($"intent '{shared.Key}' is served by endpoints {string.Join(", ", shared.Select(e => e.Key))}; give each its own intent", [nameof(Endpoints)]);
        }
    }
}

/// <summary>One endpoint.</summary>
public sealed class HttpEndpointOptions
{
    /// <summary>The intent that calls it. Default: the endpoint's name.</summary>
    public string? Intent { get; set; }

    /// <summary><c>GET</c> (the default) or <c>POST</c>: endpoints look things up.</summary>
    public string Method { get; set; } = "GET";

    /// <summary>
    /// An absolute http(s) URL; <c>{slot}</c> placeholders in its path and query take the intent's slots,
    /// URL-encoded. Not in the scheme or host, and never a secret (URLs end up in proxies' and servers' logs).
    /// Required.
    /// </summary>
    public string Url { get; set; } = "";

    /// <summary>Request headers; a value may hold <c>{secret:NAME}</c> (<c>Bearer {secret:WEATHER_TOKEN}</c>).</summary>
    public IDictionary<string, string> Headers { get; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// A JSON body template for POST; <c>{slot}</c> and <c>{secret:NAME}</c> placeholders inside its strings are
    /// replaced by the values, JSON-escaped (<c>{"city": "{city}"}</c>). Default none.
    /// </summary>
    public string? Body { get; set; }

    /// <summary>
    /// Fields of the JSON response to put into the prompt, as simple paths (<c>data.items[0].name</c>,
    /// <c>[0].id</c>). Default none: the whole body, up to <see cref="HttpPluginOptions.MaxChars"/>.
    /// </summary>
    public IList<string> Keep { get; } = [];

    /// <summary>This endpoint's time limit. Default: <see cref="HttpPluginOptions.Timeout"/>.</summary>
    public TimeSpan? Timeout { get; set; }

    /// <summary>This endpoint's response size cap in bytes. Default: <see cref="HttpPluginOptions.MaxResponseBytes"/>.</summary>
    public int? MaxResponseBytes { get; set; }

    /// <summary>What is wrong with the endpoint, as (member, message) pairs.</summary>
    internal IEnumerable<(string Member, string Message)> Problems(IDictionary<string, string> secrets)
    {
        if (!string.Equals(Method, "GET", StringComparison.OrdinalIgnoreCase) && !string.Equals(Method, "POST", StringComparison.OrdinalIgnoreCase))
        {
            yield return (nameof(Method), "must be GET or POST");
        }

        if (!HttpTemplate.TryParseUrl(Url, out var urlProblem))
        {
            yield return (nameof(Url), urlProblem);
        }

        foreach (var (header, value) in Headers)
        {
            foreach (var (name, isSecret) in HttpTemplate.Placeholders(value))
            {
                if (!isSecret)
                {
                    yield return ($"{nameof(Headers)}:{header}", $"holds {{{name}}}: header values take only {{secret:NAME}} placeholders");
                }
                else if (HttpTemplate.Secret(secrets, name) is null)
                {
                    yield return ($"{nameof(Headers)}:{header}", $"refers to secret {name}, which is neither Plugins:Http:Secrets:{name} nor an environment variable {name}");
                }
            }
        }

        foreach (var (name, isSecret) in HttpTemplate.Placeholders(Body ?? ""))
        {
            if (isSecret && HttpTemplate.Secret(secrets, name) is null)
            {
                yield return (nameof(Body), $"refers to secret {name}, which is neither Plugins:Http:Secrets:{name} nor an environment variable {name}");
            }
        }

        foreach (var path in Keep)
        {
            if (!JsonFieldPath.TryParse(path, out _))
            {
                yield return (nameof(Keep), $"'{path}' is not a field path (write data.items[0].name)");
            }
        }

        if (Timeout is { } timeout && (timeout < TimeSpan.FromMilliseconds(50) || timeout > TimeSpan.FromMinutes(1)))
        {
            yield return (nameof(Timeout), "must be between 00:00:00.050 and 00:01:00");
        }

        if (MaxResponseBytes is < 1024 or > 16 * 1024 * 1024)
        {
            yield return (nameof(MaxResponseBytes), "must be between 1024 and 16777216");
        }
    }
}
