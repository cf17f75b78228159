using System.CommandLine;
using WeSeek.Security;

namespace WeSeek.Host.Commands;

/// <summary><c>weseek logs export</c>: stored conversations as JSON lines, decrypted only when asked.</summary>
internal static class LogsCommand
{
    public static Command Create() => new("logs", "Work with stored conversations.") { Export() };

    private static Command Export()
    {
        var decrypt = new Option<bool>("--decrypt") { Description = "Include the message texts, decrypted with the configured keys (Security:Encryption). Without it only metadata is exported." };
        var conversation = new Option<string?>("--conversation") { Description = "Only this conversation (its key, as in the \"conversation\" field)." };
        var output = new Option<FileInfo?>("--out") { Description = "Write to this file (created with mode 0600) instead of standard output." };
        var command = new Command("export", "Export conversations as JSON lines: one message a line, inbound and replies in order.") { decrypt, conversation, output };
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction((result, cancellationToken) => StoreAccess.RunAsync([.. result.UnmatchedTokens], async services =>
        {
            var withText = result.GetValue(decrypt);
            if (result.GetValue(output) is { } file)
            {
                var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
                if (!OperatingSystem.IsWindows())
                {
                    // A decrypted export is as sensitive as the key: owner-only, like the key file.
                    options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
                }

                await using var writer = new StreamWriter(file.FullName, new System.Text.UTF8Encoding(false), options);
                var count = await services.ExportTranscriptsAsync(writer, withText, result.GetValue(conversation), cancellationToken);
                await Console.Error.WriteLineAsync($"Exported {count} messages to {file.FullName}{(withText ? " (decrypted)" : " (metadata only; add --decrypt for the texts)")}.");
            }
            else
            {
                await services.ExportTranscriptsAsync(Console.Out, withText, result.GetValue(conversation), cancellationToken);
                await Console.Out.FlushAsync(cancellationToken);
            }

            return 0;
        }));
        return command;
    }
}
