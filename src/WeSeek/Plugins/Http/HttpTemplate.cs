using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace WeSeek.Plugins.Http;

/// <summary>
/// <c>{slot}</c> and <c>{secret:NAME}</c> placeholders in URLs, header values and body templates. A value is
/// always encoded for where it goes (URL-encoded in a URL, JSON-escaped in a body), so a slot cannot add a path
/// segment, a query parameter or a JSON field.
/// </summary>
internal static partial class HttpTemplate
{
    /// <summary>The placeholders of a template, in order: (name, is it a secret).</summary>
    public static IEnumerable<(string Name, bool IsSecret)> Placeholders(string template) =>
        PlaceholderPattern().Matches(template).Select(m => (m.Groups["name"].Value, m.Groups["secret"].Success));

    /// <summary>A secret's value: <c>Plugins:Http:Secrets:NAME</c>, else the environment variable NAME.</summary>
    public static string? Secret(IDictionary<string, string> secrets, string name) =>
        secrets.TryGetValue(name, out var value) && value.Length > 0 ? value : Environment.GetEnvironmentVariable(name) is { Length: > 0 } env ? env : null;

    /// <summary>
    /// True when the URL template is an absolute http(s) URL with placeholders only after its host (in the path or
    /// query), and no secrets.
    /// </summary>
    public static bool TryParseUrl(string template, out string problem)
    {
        problem = "";
        if (string.IsNullOrWhiteSpace(template))
        {
            problem = "is required";
            return false;
        }

        if (Placeholders(template).Any(p => p.IsSecret))
        {
            problem = "holds a {secret:…}: URLs end up in logs; put secrets in a header or the body";
            return false;
        }

        var sample = PlaceholderPattern().Replace(template, "x");
        if (!Uri.TryCreate(sample, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            problem = "must be an absolute http or https URL";
            return false;
        }

        var authorityEnd = template.IndexOfAny(['/', '?', '#'], template.IndexOf("://", StringComparison.Ordinal) + 3);
        var firstPlaceholder = PlaceholderPattern().Match(template);
        if (firstPlaceholder.Success && (authorityEnd < 0 || firstPlaceholder.Index < authorityEnd))
        {
            problem = "has a placeholder in its scheme or host; only the path and query may take slots";
            return false;
        }

        return true;
    }

    /// <summary>The URL with each <c>{slot}</c> URL-encoded; null when a slot is missing or unusable (then
    /// <paramref name="missing"/> names it).</summary>
    public static Uri? ExpandUrl(string template, Func<string, string?> slot, List<string> missing)
    {
        var expanded = PlaceholderPattern().Replace(template, m =>
        {
            var value = slot(m.Groups["name"].Value);
            // "." and ".." would be dot segments: the URL would climb out of the configured path.
            if (string.IsNullOrWhiteSpace(value) || value.Trim().Trim('.').Length == 0)
            {
                missing.Add(m.Groups["name"].Value);
                return "";
            }

            return Uri.EscapeDataString(value);
        });
        return missing.Count == 0 ? new Uri(expanded, UriKind.Absolute) : null;
    }

    /// <summary>A header value with its secrets filled in.</summary>
    public static string ExpandHeader(string template, IDictionary<string, string> secrets) =>
        PlaceholderPattern().Replace(template, m => m.Groups["secret"].Success ? Secret(secrets, m.Groups["name"].Value) ?? "" : m.Value);

    /// <summary>A JSON body with slots and secrets filled in, JSON-escaped; null when a slot is missing.</summary>
    public static string? ExpandBody(string template, Func<string, string?> slot, IDictionary<string, string> secrets, List<string> missing)
    {
        var expanded = PlaceholderPattern().Replace(template, m =>
        {
            var name = m.Groups["name"].Value;
            var value = m.Groups["secret"].Success ? Secret(secrets, name) : slot(name);
            if (value is null)
            {
                missing.Add(name);
                return "";
            }

            var encoded = JsonEncodedText.Encode(value, JavaScriptEncoder.UnsafeRelaxedJsonEscaping);
            return encoded.ToString();
        });
        return missing.Count == 0 ? expanded : null;
    }

    [GeneratedRegex(@"\{(?:(?<secret>secret):)?(?<name>[A-Za-z_][A-Za-z0-9_]*)\}", RegexOptions.CultureInvariant)]
    private static partial Regex PlaceholderPattern();
}
