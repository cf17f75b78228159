using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace WeSeek.Plugins.Http;

/// <summary>
/// A simple path into a JSON document: property names separated by dots, each optionally followed by array
/// indexes (<c>data.items[0].name</c>, <c>[0].id</c>). No wildcards or filters: a kept field is one value.
/// </summary>
internal sealed partial class JsonFieldPath
{
    private readonly List<(string? Property, int? Index)> _steps;

    private JsonFieldPath(string text, List<(string? Property, int? Index)> steps)
    {
        Text = text;
        _steps = steps;
    }

    public string Text { get; }

    public static bool TryParse(string text, out JsonFieldPath path)
    {
        path = null!;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        var steps = new List<(string?, int?)>();
        foreach (var segment in text.Split('.'))
        {
            var match = SegmentPattern().Match(segment);
            if (!match.Success || (match.Groups["name"].Length == 0 && match.Groups["index"].Captures.Count == 0))
            {
                return false;
            }

            if (match.Groups["name"].Length > 0)
            {
                steps.Add((match.Groups["name"].Value, null));
            }

            foreach (Capture index in match.Groups["index"].Captures)
            {
                if (!int.TryParse(index.Value, NumberStyles.None, CultureInfo.InvariantCulture, out var i))
                {
                    return false;
                }

                steps.Add((null, i));
            }
        }

        path = new JsonFieldPath(text, steps);
        return true;
    }

    /// <summary>The value at the path, or null when the document has nothing there.</summary>
    public JsonNode? Find(JsonNode? root)
    {
        var node = root;
        foreach (var (property, index) in _steps)
        {
            node = (property, index, node) switch
            {
                ({ } name, _, JsonObject obj) => obj.TryGetPropertyValue(name, out var child) ? child : null,
                (null, { } i, JsonArray array) => i < array.Count ? array[i] : null,
                _ => null,
            };
            if (node is null)
            {
                return null;
            }
        }

        return node;
    }

    [GeneratedRegex(@"^(?<name>[^\[\]]*)(?:\[(?<index>\d+)\])*$", RegexOptions.CultureInvariant)]
    private static partial Regex SegmentPattern();
}
