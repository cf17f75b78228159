using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;

namespace WeSeek.Security;

/// <summary>
/// What may reach a log or an exception message. Secrets never: a configuration value whose key names a secret
/// is replaced by <see cref="Mask"/>, and free text (an exception's message, a server's error body) is scrubbed of
/// bearer tokens, <c>Authorization</c> headers and <c>key=value</c> pairs that look like credentials. Message
/// content is logged only as its length unless the log is at Trace.
/// </summary>
internal static partial class Redaction
{
    public const string Mask = "***";

    /// <summary>Last segments of configuration keys that hold secrets (compared without case):
    /// app secrets, tokens, EncodingAESKey, API keys, passwords, encryption keys, connection strings, and
    /// Authorization headers written into configuration.</summary>
    private static readonly string[] SecretWords = ["secret", "token", "key", "keys", "password", "connectionstring", "credential", "authorization"];

    /// <summary>True when the configuration key (<c>OfficialAccount:Accounts:0:AppSecret</c>) names a secret.</summary>
    public static bool IsSecretKey(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var last = key[(key.LastIndexOf(':') + 1)..];
        // KeyFile is a path, not a key.
        if (last.Equals("KeyFile", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        // Everything under a Secrets section (Plugins:Http:Secrets:AMAP) is one, whatever its name.
        if (key.Contains(":Secrets:", StringComparison.OrdinalIgnoreCase) || key.StartsWith("Secrets:", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        return SecretWords.Any(word => last.EndsWith(word, StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>The configuration as a JSON object of its keys (sections only: plain process environment
    /// variables such as PATH are left out), with every secret value masked.</summary>
    public static JsonObject RedactedConfiguration(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var result = new JsonObject();
        foreach (var (key, value) in configuration.AsEnumerable().Where(p => p.Value is not null && p.Key.Contains(':', StringComparison.Ordinal)).OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            result[key] = IsSecretKey(key) && value!.Length > 0 ? Mask : value;
        }

        return result;
    }

    /// <summary>Free text with credentials masked: <c>Bearer …</c>, <c>Authorization: …</c>, and
    /// <c>secret=…</c> / <c>access_token=…</c> / <c>"api_key": "…"</c> style pairs.</summary>
    public static string Scrub(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return text ?? "";
        }

        text = AuthorizationPattern().Replace(text, m => m.Groups[1].Value + Mask);
        text = BearerPattern().Replace(text, m => m.Groups[1].Value + Mask);
        return PairPattern().Replace(text, m => m.Groups[1].Value + Mask);
    }

    /// <summary>Message content for a log line: only its length, so a log at Information never holds what
    /// users wrote. At Trace the caller may log the text itself.</summary>
    public static string Content(string? text) => text is null ? "(none)" : $"[{text.Length} characters]";

    [GeneratedRegex(@"(Authorization\s*[:=]\s*)[^\r\n,;]+", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex AuthorizationPattern();

    [GeneratedRegex(@"(Bearer\s+)[A-Za-z0-9\-._~+/=]+", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex BearerPattern();

    [GeneratedRegex(@"((?:secret|token|access_token|api_?key|apikey|password|aeskey|encodingaeskey|key)""?\s*[:=]\s*""?)[^\s""&,;}]+", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex PairPattern();
}
