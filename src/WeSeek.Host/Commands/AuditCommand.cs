using System.CommandLine;
using WeSeek.Security;

namespace WeSeek.Host.Commands;

/// <summary><c>weseek audit verify</c>: walks the hash chain; exit code 1 and the first broken record if it is broken.</summary>
internal static class AuditCommand
{
    public static Command Create() => new("audit", "Work with the audit log.") { Verify() };

    private static Command Verify()
    {
        var command = new Command("verify", "Check the audit log's hash chain; names the first record that was edited, deleted or reordered (exit code 1).");
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction((result, cancellationToken) => StoreAccess.RunAsync([.. result.UnmatchedTokens], async services =>
        {
            var verification = await services.VerifyAuditAsync(cancellationToken);
            if (verification.IsIntact)
            {
                Console.WriteLine($"The audit log is intact: {verification.Records} records.");
                return 0;
            }

            await Console.Error.WriteLineAsync($"The audit log is broken at record {verification.BrokenId}: {verification.Problem}. {verification.Records} records before it are intact.");
            return 1;
        }));
        return command;
    }
}
