using System.CommandLine;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using WeSeek.Storage;
using WeSeek.Storage.Postgres;
using WeSeek.Storage.Sqlite;

namespace WeSeek.Host.Commands;

/// <summary>
/// <c>weseek db migrate</c>: brings the configured database (<c>Storage:Provider</c>) to this build's schema, for a
/// fleet that runs with <c>Storage:AutoMigrate=false</c>. <c>weseek db migrate --to postgres --connection-string …</c>:
/// moves the embedded SQLite install of the data directory into an empty PostgreSQL database.
/// </summary>
internal static class DbCommand
{
    public static Command Create() => new("db", "Work with the database: schema migrations, moving to PostgreSQL.") { Migrate() };

    private static Command Migrate()
    {
        var to = new Option<string?>("--to") { Description = "postgres: copy the SQLite database of the data directory into PostgreSQL." };
        var connectionString = new Option<string?>("--connection-string") { Description = "The PostgreSQL database to copy into (default: Storage:ConnectionString)." };
        var command = new Command("migrate", "Bring the database to this build's schema version; with --to postgres, move the SQLite install into an empty PostgreSQL database.")
        {
            to,
            connectionString,
        };
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction((result, cancellationToken) =>
        {
            string[] args = [.. result.UnmatchedTokens, "--Storage:AutoMigrate=true"];
            var target = result.GetValue(to);
            if (target is null)
            {
                return StoreAccess.RunAsync(args, async services =>
                {
                    var database = services.GetRequiredService<StoreDatabase>();
                    var (before, latest) = await database.SchemaVersionAsync(cancellationToken);
                    await database.EnsureReadyAsync(cancellationToken);
                    Console.WriteLine(before == latest
                        ? $"The database at {database.Location} is at schema version {latest}, this build's: nothing to do."
                        : $"Migrated the database at {database.Location} from schema version {before} to {latest}.");
                    return 0;
                }, existing: false);
            }

            if (!string.Equals(target, "postgres", StringComparison.OrdinalIgnoreCase))
            {
                Console.Error.WriteLine($"weseek: --to {target}: the only target is postgres.");
                return Task.FromResult(2);
            }

            // The source is the data directory's SQLite file, whatever Storage:Provider says.
            return StoreAccess.RunAsync([.. args, "--Storage:Provider=sqlite"], async services =>
            {
                var configured = services.GetRequiredService<IConfiguration>()["Storage:ConnectionString"];
                var options = new StorageOptions { Provider = StorageProvider.Postgres, ConnectionString = result.GetValue(connectionString) ?? configured };
                if (string.IsNullOrWhiteSpace(options.ConnectionString) || PostgresDatabase.ConnectionStringError(options.ConnectionString) is { } error)
                {
                    await Console.Error.WriteLineAsync("weseek: --connection-string (or Storage:ConnectionString, environment variable WESEEK__Storage__ConnectionString) must name the PostgreSQL database: Host=…;Database=…;Username=…;Password=…");
                    return 2;
                }

                var source = services.GetRequiredService<SqliteDatabase>();
                await using var destination = new PostgresDatabase(Options.Create(options), NullLogger<PostgresDatabase>.Instance, TimeProvider.System);
                var copied = await SqliteToPostgres.CopyAsync(source, destination, cancellationToken);
                Console.WriteLine($"Copied {source.Location} into {destination.Location}: " + string.Join(", ", copied.Select(c => $"{c.Table} {c.Rows}")) + ".");
                Console.WriteLine("Next: keep the key file (weseek.key or Security:Encryption) for every instance, and start them with Storage:Provider=postgres and Storage:ConnectionString.");
                return 0;
            });
        });
        return command;
    }
}
