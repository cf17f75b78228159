using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using WeSeek.Feedback;
using WeSeek.Security;
using WeSeek.Storage;
using WeSeek.Storage.Sql;

namespace WeSeek.Host.Commands;

/// <summary>
/// <c>weseek feedback export</c>: users' ratings as training data in TRL's formats (docs/adaptation.md), personal
/// data taken out unless an admin key says otherwise. Every export is in the audit log.
/// </summary>
internal static class FeedbackCommand
{
    public static Command Create() => new("feedback", "Users' ratings of answers (👍/👎 and corrections).") { Export() };

    private static Command Export()
    {
        var format = new Option<string>("--format") { Description = "dpo (correction chosen over the 👎 answer), sft (👍 answers and corrections) or kto (each answer with its label).", Required = true };
        var since = new Option<string?>("--since") { Description = "Ratings from this time on: a date (2026-11-01, UTC), a time with offset, or an age (7d, 12h). Default: all." };
        var output = new Option<FileInfo>("--out") { Description = "The JSON lines file to write (mode 0600); the report goes beside it as <file>.report.json.", Required = true };
        var noRedact = new Option<bool>("--no-redact") { Description = "Keep phone numbers, ID numbers, e-mail, bank cards and WeChat ids in the texts. Needs --admin-key." };
        var adminKey = new Option<string?>("--admin-key") { Description = "An admin key (weseek admin key create), required by --no-redact." };
        var command = new Command("export", "Export rated answers as training data: the prompt as the model saw it, with the answer and the rating.") { format, since, output, noRedact, adminKey };
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction((result, cancellationToken) => StoreAccess.RunAsync([.. result.UnmatchedTokens], async services =>
        {
            var time = services.GetRequiredService<TimeProvider>();
            if (Parse(result.GetValue(format)!) is not { } shape)
            {
                return await FailAsync("--format must be dpo, sft or kto.");
            }

            if (Since(result.GetValue(since), time.GetUtcNow()) is not { } from)
            {
                return await FailAsync($"--since '{result.GetValue(since)}' is neither a date (2026-11-01), a time with offset, nor an age (7d, 12h).");
            }

            var redact = !result.GetValue(noRedact);
            AdminKeyInfo? key = null;
            if (!redact)
            {
                if (string.IsNullOrEmpty(result.GetValue(adminKey)))
                {
                    return await FailAsync("--no-redact exports users' personal data: it needs an admin key (--admin-key; weseek admin key create makes one).");
                }

                key = await services.GetRequiredService<AdminKeys>().AuthenticateAsync(result.GetValue(adminKey)!, cancellationToken);
                if (key is null)
                {
                    return await FailAsync("--admin-key is not a valid admin key (unknown or revoked); nothing was exported.");
                }
            }

            var file = result.GetValue(output)!;
            var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite; // Users' words, even redacted.
            }

            var store = new FeedbackStore(services.GetRequiredService<StoreDatabase>(), services.GetRequiredService<RecordCipher>());
            FeedbackExportReport report;
            await using (var writer = new StreamWriter(file.FullName, new System.Text.UTF8Encoding(false), options))
            {
                report = await FeedbackExport.WriteAsync(store.ReadAsync(from, cancellationToken), shape, redact, writer, cancellationToken);
            }

            var summary = new JsonObject
            {
                ["format"] = shape.ToString().ToLowerInvariant(),
                ["since"] = from == DateTimeOffset.MinValue ? null : from.ToString("O", CultureInfo.InvariantCulture),
                ["ratings"] = report.Ratings,
                ["lines"] = report.Lines,
                ["skipped"] = new JsonObject([.. report.Skipped.Select(s => KeyValuePair.Create(s.Key, (JsonNode?)s.Value))]),
                ["redaction"] = report.Redaction,
                ["redacted"] = new JsonObject([.. report.Redacted.Select(s => KeyValuePair.Create(s.Key, (JsonNode?)s.Value))]),
            };
            await File.WriteAllTextAsync(file.FullName + ".report.json", summary.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }), cancellationToken);
            var audited = (JsonObject)summary.DeepClone();
            audited["adminKey"] = key?.Id;
            await services.GetRequiredService<AuditLog>().AppendAsync("feedback.export", audited, CancellationToken.None);

            await Console.Error.WriteLineAsync($"Exported {report.Lines} {shape.ToString().ToUpperInvariant()} examples from {report.Ratings} ratings to {file.FullName}.");
            foreach (var (reason, count) in report.Skipped)
            {
                await Console.Error.WriteLineAsync($"  skipped {count}: {reason}");
            }

            await Console.Error.WriteLineAsync(redact
                ? $"  personal data taken out: {(report.Redacted.Count == 0 ? "none found" : string.Join(", ", report.Redacted.Select(r => $"{r.Value} {Describe(r.Key)}")))} (report: {file.Name}.report.json)"
                : $"  NOT redacted (--no-redact, admin key {key!.Id} {key.Name}): the file holds users' personal data.");
            return 0;
        }));
        return command;
    }

    private static async Task<int> FailAsync(string message)
    {
        await Console.Error.WriteLineAsync("weseek: " + message);
        return 2;
    }

    private static FeedbackExportFormat? Parse(string format) => format.ToLowerInvariant() switch
    {
        "dpo" => FeedbackExportFormat.Dpo,
        "sft" => FeedbackExportFormat.Sft,
        "kto" => FeedbackExportFormat.Kto,
        _ => null,
    };

    /// <summary>The start of the export; <see cref="DateTimeOffset.MinValue"/> for all; null when unreadable.</summary>
    internal static DateTimeOffset? Since(string? text, DateTimeOffset now)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return DateTimeOffset.MinValue;
        }

        text = text.Trim();
        if (text.Length > 1 && text[^1] is 'd' or 'h' && double.TryParse(text[..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out var amount) && amount >= 0)
        {
            return now - (text[^1] == 'd' ? TimeSpan.FromDays(amount) : TimeSpan.FromHours(amount));
        }

        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at) ? at : null;
    }

    private static string Describe(string kind) => kind switch
    {
        "phone" => "phone numbers",
        "id_number" => "ID numbers",
        "bank_card" => "bank card numbers",
        "email" => "e-mail addresses",
        "wechat_id" => "WeChat ids",
        _ => kind,
    };
}
