using System.CommandLine;
using System.Globalization;
using Spectre.Console;
using WeSeek.Security;

namespace WeSeek.Host.Commands;

/// <summary><c>weseek admin key create|list|revoke</c>: the API keys that open the admin API and console.</summary>
internal static class AdminCommand
{
    public static Command Create() => new("admin", "Administer the admin API.")
    {
        new Command("key", "Create, list and revoke admin API keys (stored as hashes; a key is shown once).") { CreateKey(), ListKeys(), RevokeKey() },
    };

    private static Command CreateKey()
    {
        var name = new Option<string>("--name") { Description = "Who or what will use the key (shown by list and in the audit log).", Required = true };
        var role = new Option<string>("--role") { Description = "viewer (sees, changes nothing, reads no transcript), operator (also reads transcripts and changes chats, documents, word lists), or admin (also manages keys). Default admin.", DefaultValueFactory = _ => "admin" };
        var command = new Command("create", "Create a key and print it once: store it where it is needed, it cannot be shown again.") { name, role };
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction(async (result, cancellationToken) =>
        {
            if (!AdminRoles.TryParse(result.GetValue(role), out var parsed))
            {
                await Console.Error.WriteLineAsync($"--role '{result.GetValue(role)}' is not a role: use viewer, operator or admin.");
                return 2;
            }

            return await CreateAsync(result, name, parsed, cancellationToken);
        });
        return command;
    }

    private static Task<int> CreateAsync(ParseResult result, Option<string> name, AdminRole role, CancellationToken cancellationToken) =>
        StoreAccess.RunAsync([.. result.UnmatchedTokens], async services =>
        {
            var (key, info) = await services.GetRequiredService<AdminKeys>().CreateAsync(result.GetValue(name)!, role, cancellationToken);
            // The key alone on stdout, so `KEY=$(weseek admin key create --name ci)` works; the rest on stderr.
            Console.WriteLine(key);
            await Console.Error.WriteLineAsync($"Created admin key {info.Id} ({info.Name}, {info.Role.Name()}) in {services.GetRequiredService<Microsoft.Extensions.Options.IOptions<WeSeek.Storage.StorageOptions>>().Value.DatabasePath}. Send it as: Authorization: Bearer {info.Prefix}… It is not stored and cannot be shown again.");
            return 0;
        }, existing: false);

    private static Command ListKeys()
    {
        var command = new Command("list", "List the keys: number, name, first characters, created, last used, revoked.");
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction((result, cancellationToken) => StoreAccess.RunAsync([.. result.UnmatchedTokens], async services =>
        {
            var keys = await services.GetRequiredService<AdminKeys>().ListAsync(cancellationToken);
            if (keys.Count == 0)
            {
                Console.WriteLine("No admin keys. Create one with: weseek admin key create --name <who>");
                return 0;
            }

            var table = new Table().AddColumns("id", "name", "role", "key", "created", "last used", "revoked");
            foreach (var key in keys)
            {
                table.AddRow(
                    key.Id.ToString(CultureInfo.InvariantCulture), Markup.Escape(key.Name), key.Role.Name(), key.Prefix + "…", Format(key.CreatedAt),
                    key.LastUsedAt is { } used ? Format(used) : "never", key.RevokedAt is { } revoked ? Format(revoked) : "");
            }

            AnsiConsole.Write(table);
            return 0;
        }));
        return command;
    }

    private static Command RevokeKey()
    {
        var id = new Argument<long>("id") { Description = "The key's number, from weseek admin key list." };
        var command = new Command("revoke", "Revoke a key: it stops opening the admin API at once.") { id };
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction((result, cancellationToken) => StoreAccess.RunAsync([.. result.UnmatchedTokens], async services =>
        {
            if (await services.GetRequiredService<AdminKeys>().RevokeAsync(result.GetValue(id), cancellationToken))
            {
                Console.WriteLine($"Revoked admin key {result.GetValue(id)}.");
                return 0;
            }

            await Console.Error.WriteLineAsync($"No active admin key {result.GetValue(id)}; see weseek admin key list.");
            return 1;
        }));
        return command;
    }

    private static string Format(DateTimeOffset at) => at.ToLocalTime().ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture);
}
