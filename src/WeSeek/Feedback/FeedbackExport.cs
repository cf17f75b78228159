using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace WeSeek.Feedback;

/// <summary>The shapes of training data <c>weseek feedback export</c> writes, in TRL's conversational formats.</summary>
public enum FeedbackExportFormat
{
    /// <summary>Preference pairs for DPO: <c>{prompt, chosen, rejected}</c>; a correction is chosen over the 👎 answer.</summary>
    Dpo,

    /// <summary>Prompt-completion for SFT: <c>{prompt, completion}</c>; 👍 answers and corrections.</summary>
    Sft,

    /// <summary>Unpaired preferences for KTO: <c>{prompt, completion, label}</c>; every rated answer (and each
    /// correction, as desirable).</summary>
    Kto,
}

/// <summary>What an export wrote, skipped and took out.</summary>
public sealed class FeedbackExportReport
{
    /// <summary>Ratings read.</summary>
    public int Ratings { get; set; }

    /// <summary>JSON lines written.</summary>
    public int Lines { get; set; }

    /// <summary>Ratings that gave no line in this format, by reason.</summary>
    public Dictionary<string, int> Skipped { get; } = new(StringComparer.Ordinal);

    /// <summary>Personal data taken out, by kind (<see cref="PersonalData.Labels"/>); empty with redaction off.</summary>
    public Dictionary<string, int> Redacted { get; } = new(StringComparer.Ordinal);

    /// <summary>Whether personal data was taken out.</summary>
    public bool Redaction { get; set; }
}

/// <summary>
/// Turns rated answers into training data: the prompt exactly as the model was given it (persona, window, retrieved
/// passages, the question) as TRL's conversational messages, and the answer. Reasoning is never exported as an
/// answer: stored answers have none, and any <c>&lt;think&gt;</c> block that reached text is cut out here too.
/// </summary>
internal static partial class FeedbackExport
{
    /// <summary>Writes one JSON line per example to <paramref name="output"/>.</summary>
    public static async Task<FeedbackExportReport> WriteAsync(IAsyncEnumerable<FeedbackRecord> records, FeedbackExportFormat format, bool redact, TextWriter output, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(records);
        ArgumentNullException.ThrowIfNull(output);
        var report = new FeedbackExportReport { Redaction = redact };
        string Clean(string role, string text)
        {
            var bare = role == "assistant" ? WithoutReasoning(text) : text;
            return redact ? PersonalData.Redact(bare, report.Redacted) : bare;
        }

        await foreach (var record in records.WithCancellation(cancellationToken))
        {
            report.Ratings++;
            var lines = Lines(record, format, report.Skipped).ToList();
            if (lines.Count == 0)
            {
                continue;
            }

            var prompt = new JsonArray([.. record.Answer.Prompt.Select(m => Message(m.Role, Clean(m.Role, m.Content)))]);
            foreach (var line in lines)
            {
                var json = new JsonObject { ["prompt"] = prompt.DeepClone() };
                foreach (var (key, value) in line)
                {
                    json[key] = value switch
                    {
                        string text => new JsonArray(Message("assistant", Clean("assistant", text))),
                        bool label => JsonValue.Create(label),
                        _ => throw new InvalidOperationException(key),
                    };
                }

                await output.WriteLineAsync(json.ToJsonString(JsonOptions).AsMemory(), cancellationToken);
                report.Lines++;
            }
        }

        return report;
    }

    private static readonly JsonSerializerOptions JsonOptions = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The fields of each line a rating gives in <paramref name="format"/> (besides the prompt).</summary>
    private static IEnumerable<IReadOnlyList<(string Key, object Value)>> Lines(FeedbackRecord record, FeedbackExportFormat format, Dictionary<string, int> skipped)
    {
        var answer = record.Answer.Answer;
        var correction = string.IsNullOrWhiteSpace(record.Correction) ? null : record.Correction;
        var up = record.Kind == FeedbackKind.Up;
        switch (format)
        {
            case FeedbackExportFormat.Dpo when !up && correction is not null:
                yield return [("chosen", correction), ("rejected", answer)];
                break;
            case FeedbackExportFormat.Dpo:
                Skip(skipped, up ? "👍 without an alternative to prefer it to" : "👎 without a correction to prefer");
                break;
            case FeedbackExportFormat.Sft when up:
                yield return [("completion", answer)];
                break;
            case FeedbackExportFormat.Sft when correction is not null:
                yield return [("completion", correction)];
                break;
            case FeedbackExportFormat.Sft:
                Skip(skipped, "👎 without a correction (nothing to imitate)");
                break;
            case FeedbackExportFormat.Kto:
                yield return [("completion", answer), ("label", up)];
                if (!up && correction is not null)
                {
                    yield return [("completion", correction), ("label", true)];
                }

                break;
        }
    }

    private static void Skip(Dictionary<string, int> skipped, string reason) => skipped[reason] = skipped.GetValueOrDefault(reason) + 1;

    private static JsonObject Message(string role, string content) => new() { ["role"] = role, ["content"] = content };

    /// <summary>The text without reasoning: every <c>&lt;think&gt;…&lt;/think&gt;</c> block, and everything before a
    /// lone <c>&lt;/think&gt;</c> (R1's template opens the block in the prompt).</summary>
    internal static string WithoutReasoning(string text)
    {
        var bare = ThinkBlock().Replace(text, "");
        var close = bare.LastIndexOf("</think>", StringComparison.Ordinal);
        if (close >= 0)
        {
            bare = bare[(close + "</think>".Length)..];
        }

        var open = bare.IndexOf("<think>", StringComparison.Ordinal);
        return (open >= 0 ? bare[..open] : bare).Trim();
    }

    [GeneratedRegex(@"<think>[\s\S]*?</think>", RegexOptions.CultureInvariant)]
    private static partial Regex ThinkBlock();
}
