using System.Globalization;
using System.Text.RegularExpressions;

namespace WeSeek.TestKit;

/// <summary>One sample of a scrape: metric name, labels, value.</summary>
public sealed record PrometheusSample(string Name, IReadOnlyDictionary<string, string> Labels, double Value);

/// <summary>
/// A strict parser of the Prometheus text exposition format (version 0.0.4, as published in the Prometheus
/// documentation "Exposition formats"): HELP and TYPE lines, samples with escaped label values, and the
/// histogram rules (cumulative buckets ending in +Inf, equal to _count). Throws <see cref="FormatException"/>
/// naming the line on anything a Prometheus server would reject.
/// </summary>
public static partial class PrometheusText
{
    public static IReadOnlyList<PrometheusSample> Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var samples = new List<PrometheusSample>();
        var types = new Dictionary<string, string>(StringComparer.Ordinal);
        var lineNumber = 0;
        foreach (var line in text.Split('\n'))
        {
            lineNumber++;
            if (line.Length == 0)
            {
                continue;
            }

            if (line.StartsWith('#'))
            {
                var comment = CommentLine().Match(line);
                if (comment.Success && comment.Groups[1].Value == "TYPE")
                {
                    var type = comment.Groups[3].Value.Trim();
                    if (type is not ("counter" or "gauge" or "histogram" or "summary" or "untyped"))
                    {
                        throw new FormatException($"line {lineNumber}: unknown type '{type}'");
                    }

                    if (!types.TryAdd(comment.Groups[2].Value, type))
                    {
                        throw new FormatException($"line {lineNumber}: second TYPE for {comment.Groups[2].Value}");
                    }
                }

                continue;
            }

            var match = SampleLine().Match(line);
            if (!match.Success)
            {
                throw new FormatException($"line {lineNumber}: not a sample: {line}");
            }

            var labels = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (Match label in LabelPair().Matches(match.Groups[2].Value))
            {
                if (!labels.TryAdd(label.Groups[1].Value, Unescape(label.Groups[2].Value)))
                {
                    throw new FormatException($"line {lineNumber}: label {label.Groups[1].Value} twice");
                }
            }

            if (match.Groups[2].Value.Length > 0 && LabelPair().Replace(match.Groups[2].Value, "").Trim(',', ' ').Length > 0)
            {
                throw new FormatException($"line {lineNumber}: malformed labels {{{match.Groups[2].Value}}}");
            }

            samples.Add(new PrometheusSample(match.Groups[1].Value, labels, ParseValue(match.Groups[3].Value, lineNumber)));
        }

        CheckHistograms(samples, types);
        return samples;
    }

    private static void CheckHistograms(List<PrometheusSample> samples, Dictionary<string, string> types)
    {
        foreach (var (name, _) in types.Where(t => t.Value == "histogram"))
        {
            var series = samples.Where(s => s.Name == name + "_bucket")
                .GroupBy(s => string.Join(",", s.Labels.Where(l => l.Key != "le").OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => $"{l.Key}={l.Value}")));
            foreach (var group in series)
            {
                var buckets = group.Select(s => (Le: ParseValue(s.Labels["le"], 0), s.Value)).OrderBy(b => b.Le).ToList();
                if (!double.IsPositiveInfinity(buckets[^1].Le))
                {
                    throw new FormatException($"{name}{{{group.Key}}}: no +Inf bucket");
                }

                for (var i = 1; i < buckets.Count; i++)
                {
                    if (buckets[i].Value < buckets[i - 1].Value)
                    {
                        throw new FormatException($"{name}{{{group.Key}}}: buckets are not cumulative");
                    }
                }

                var count = samples.FirstOrDefault(s => s.Name == name + "_count" && Key(s) == group.Key)
                    ?? throw new FormatException($"{name}{{{group.Key}}}: no _count");
                if (count.Value != buckets[^1].Value)
                {
                    throw new FormatException($"{name}{{{group.Key}}}: _count {count.Value} is not the +Inf bucket {buckets[^1].Value}");
                }
            }
        }
    }

    private static string Key(PrometheusSample sample) =>
        string.Join(",", sample.Labels.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => $"{l.Key}={l.Value}"));

    private static double ParseValue(string value, int line) => value switch
    {
        "+Inf" => double.PositiveInfinity,
        "-Inf" => double.NegativeInfinity,
        "NaN" => double.NaN,
        _ => double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number)
            ? number : throw new FormatException($"line {line}: '{value}' is not a number"),
    };

    private static string Unescape(string value) => value.Replace("\\n", "\n", StringComparison.Ordinal).Replace("\\\"", "\"", StringComparison.Ordinal).Replace("\\\\", "\\", StringComparison.Ordinal);

    [GeneratedRegex(@"^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) ?(.*)$")]
    private static partial Regex CommentLine();

    [GeneratedRegex(@"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? ([^ ]+)(?: -?[0-9]+)?$")]
    private static partial Regex SampleLine();

    [GeneratedRegex(@"([a-zA-Z_][a-zA-Z0-9_]*)=""((?:[^""\\]|\\.)*)""")]
    private static partial Regex LabelPair();
}
