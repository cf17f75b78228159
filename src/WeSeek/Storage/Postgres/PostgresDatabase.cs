using System.Data.Common;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using WeSeek.Logging;

namespace WeSeek.Storage.Postgres;

/// <summary>
/// PostgreSQL at <c>Storage:ConnectionString</c>, through one pooled <see cref="NpgsqlDataSource"/>. Several
/// WeSeek instances may share the database: uniqueness, upserts and row locks decide their races, and the
/// audit chain takes an advisory lock per append. Migrations run under a session advisory lock, so instances
/// starting together migrate once. Thread-safe.
/// </summary>
internal sealed partial class PostgresDatabase : StoreDatabase
{
    /// <summary>Advisory lock keys (one 64-bit space per database): schema migrations, then one per sequence.</summary>
    private const long MigrationLock = 0x5765_5365_656B_0001; // "WeSeek" + 1

    private const string Setting = "Storage:ConnectionString";

    private readonly NpgsqlDataSource _dataSource;
    private readonly ILogger<PostgresDatabase> _logger;
    private readonly bool _autoMigrate;
    private readonly TimeProvider _time;

    public PostgresDatabase(IOptions<StorageOptions> options, ILogger<PostgresDatabase> logger, TimeProvider time)
    {
        _time = time;
        var value = options.Value;
        var builder = new NpgsqlConnectionStringBuilder(value.ConnectionString)
        {
            // The operator's string wins where it names these.
            ApplicationName = "weseek",
        };
        if (!HasKeyword(value.ConnectionString!, "Timeout"))
        {
            builder.Timeout = (int)Math.Ceiling(value.ConnectTimeout.TotalSeconds);
        }

        Location = $"{builder.Host}:{builder.Port}/{builder.Database ?? builder.Username}";
        _dataSource = new NpgsqlDataSourceBuilder(builder.ConnectionString).Build();
        _autoMigrate = value.AutoMigrate;
        _logger = logger;
    }

    public override StorageProvider Provider => StorageProvider.Postgres;

    public override string Location { get; }

    /// <summary>The pool, for LISTEN/NOTIFY connections.</summary>
    public NpgsqlDataSource DataSource => _dataSource;

    /// <summary>Null when Npgsql accepts the string, else why not (without echoing it: it may hold a password).</summary>
    public static string? ConnectionStringError(string connectionString)
    {
        try
        {
            var builder = new NpgsqlConnectionStringBuilder(connectionString);
            return string.IsNullOrEmpty(builder.Host) ? "it names no Host" : null;
        }
        catch (ArgumentException ex)
        {
            return ex.Message.Split('\n')[0].Replace(connectionString, "…", StringComparison.Ordinal);
        }
    }

    private static bool HasKeyword(string connectionString, string keyword) =>
        connectionString.Split(';').Any(part => part.Split('=')[0].Trim().Equals(keyword, StringComparison.OrdinalIgnoreCase));

    public override async Task<DbConnection> OpenAsync(CancellationToken cancellationToken)
    {
        await EnsureReadyAsync(cancellationToken);
        return await _dataSource.OpenConnectionAsync(cancellationToken);
    }

    // No process lock: PostgreSQL's MVCC and row locks serve concurrent writers, from this process or another.
    public override async Task<WriteConnection> OpenWriterAsync(CancellationToken cancellationToken) =>
        new(await OpenAsync(cancellationToken), null);

    public override async Task<DbTransaction> BeginSerializedAsync(DbConnection connection, string sequence, CancellationToken cancellationToken)
    {
        var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT pg_advisory_xact_lock(@key);";
        command.AddParameter("@key", LockKey(sequence));
        await command.ExecuteNonQueryAsync(cancellationToken);
        return transaction;
    }

    /// <summary>A stable 64-bit advisory lock key for a name (FNV-1a; not string.GetHashCode, which is
    /// randomised per process).</summary>
    internal static long LockKey(string name)
    {
        var hash = 14695981039346656037UL;
        foreach (var c in "weseek:" + name)
        {
            hash = (hash ^ c) * 1099511628211UL;
        }

        return unchecked((long)hash);
    }

    /// <summary>The NOTIFY channel every instance listens on (<see cref="PostgresNotifications"/>).</summary>
    public const string NotifyChannel = "weseek_signals";

    public override bool Shared => true;

    public override async Task NotifyAsync(DbConnection connection, DbTransaction? transaction, StoreSignal signal, long id, CancellationToken cancellationToken)
    {
        // Delivered at commit, to every listening session including this process's own listener.
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT pg_notify(@channel, @payload);";
        command.AddParameter("@channel", NotifyChannel);
        command.AddParameter("@payload", $"{(int)signal}:{id}");
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public override bool IsTransient(Exception exception) => exception switch
    {
        PostgresException pg => pg.IsTransient || pg.SqlState is "57P01" or "57P02" or "57P03" or "40001" or "40P01" or "25006",
        NpgsqlException npgsql => npgsql.IsTransient || npgsql.InnerException is SocketException or IOException or TimeoutException,
        TimeoutException or SocketException => true,
        _ => false,
    };

    protected override async Task InitializeAsync(CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
            await using (var check = connection.CreateCommand())
            {
                check.CommandText = "SELECT current_setting('transaction_read_only') = 'on' OR pg_is_in_recovery();";
                if (await check.ExecuteScalarAsync(cancellationToken) is true)
                {
                    throw new StorageStartupException(
                        $"the PostgreSQL database at {Location} is read-only (a standby, or default_transaction_read_only): point {Setting} (environment variable {SchemaCheck.Environment(Setting)}) at the primary.");
                }
            }

            await MigrateAsync(connection, _autoMigrate, cancellationToken);
        }
        catch (Exception ex) when (ex is not StorageStartupException and not OperationCanceledException && Describe(ex) is { } reason)
        {
            throw new StorageStartupException($"cannot use the PostgreSQL database at {Location}: {reason}. Check {Setting} (environment variable {SchemaCheck.Environment(Setting)}).", ex);
        }

        Log.Opened(_logger, Location);
    }

    /// <summary>One line for the errors an operator fixes in the connection string or the server; null for others.</summary>
    private static string? Describe(Exception exception) => exception switch
    {
        PostgresException { SqlState: "28P01" or "28000" } pg => "the server refused the login (" + pg.MessageText + ")",
        PostgresException { SqlState: "3D000" } pg => pg.MessageText + " (create it, or name another in Database=)",
        PostgresException { SqlState: "42501" } pg => "permission denied (" + pg.MessageText + "): the user needs to create tables in its schema",
        PostgresException { SqlState: "25006" } => "it is read-only",
        PostgresException pg => pg.MessageText,
        NpgsqlException { InnerException: SocketException socket } => "unreachable (" + socket.Message + ")",
        NpgsqlException { InnerException: TimeoutException } => "no answer within the connect timeout",
        NpgsqlException npgsql => npgsql.Message.Split('\n')[0],
        SocketException socket => "unreachable (" + socket.Message + ")",
        TimeoutException => "no answer within the connect timeout",
        _ => null,
    };

    /// <summary>Applies this build's migrations that the database lacks, under a session advisory lock so that
    /// instances starting together migrate once.</summary>
    public async Task MigrateAsync(NpgsqlConnection connection, bool apply, CancellationToken cancellationToken)
    {
        // The lock first: CREATE TABLE IF NOT EXISTS is not safe against a concurrent CREATE of the same table.
        await ExecuteAsync(connection, $"SELECT pg_advisory_lock({MigrationLock});", null, cancellationToken);
        try
        {
            await ExecuteAsync(connection, "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, description TEXT NOT NULL, applied_at BIGINT NOT NULL);", null, cancellationToken);
            var current = await CurrentVersionAsync(connection, cancellationToken);
            var latest = PostgresMigrations.All[^1].Version;
            SchemaCheck.ThrowIfNewer(current, latest, Location, Setting);
            if (current < latest && current > 0 && !apply)
            {
                SchemaCheck.ThrowIfOlder(current, latest, Location);
            }

            foreach (var migration in PostgresMigrations.All.Where(m => m.Version > current))
            {
                await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
                await ExecuteAsync(connection, migration.Sql, transaction, cancellationToken);
                await using (var record = connection.CreateCommand())
                {
                    record.Transaction = transaction;
                    record.CommandText = "INSERT INTO schema_migrations (version, description, applied_at) VALUES (@version, @description, @now);";
                    record.AddParameter("@version", (long)migration.Version);
                    record.AddParameter("@description", migration.Description);
                    record.AddParameter("@now", _time.GetUtcNow().ToUnixTimeMilliseconds());
                    await record.ExecuteNonQueryAsync(cancellationToken);
                }

                await transaction.CommitAsync(cancellationToken);
                Log.Migrated(_logger, migration.Version, migration.Description);
            }
        }
        finally
        {
            await ExecuteAsync(connection, $"SELECT pg_advisory_unlock({MigrationLock});", null, CancellationToken.None);
        }
    }

    public override async Task<(int Current, int Latest)> SchemaVersionAsync(CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT to_regclass('schema_migrations') IS NOT NULL;";
        var exists = await command.ExecuteScalarAsync(cancellationToken) is true;
        return (exists ? await CurrentVersionAsync(connection, cancellationToken) : 0, PostgresMigrations.All[^1].Version);
    }

    private static async Task<int> CurrentVersionAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT COALESCE(MAX(version), 0) FROM schema_migrations;";
        return (int)(await command.ScalarInt64Async(cancellationToken) ?? 0);
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, NpgsqlTransaction? transaction, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public override async ValueTask DisposeAsync()
    {
        await _dataSource.DisposeAsync();
        await base.DisposeAsync();
    }

    private static partial class Log
    {
        [LoggerMessage(WeSeekEventId.PostgresOpened, LogLevel.Information, "Opened the database at {Location} (PostgreSQL)")]
        public static partial void Opened(ILogger logger, string location);

        [LoggerMessage(WeSeekEventId.DatabaseMigrated, LogLevel.Information, "Database schema migrated to version {Version}: {Description}")]
        public static partial void Migrated(ILogger logger, int version, string description);
    }
}
