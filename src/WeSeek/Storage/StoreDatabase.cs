using System.Data.Common;

namespace WeSeek.Storage;

/// <summary>
/// The one seam between WeSeek's stores and a database engine: connections, the write discipline, the locks
/// that keep one sequence (the audit chain) single across processes, and the schema version. Two providers:
/// SQLite in the data directory (the embedded default) and PostgreSQL (several instances on one database).
/// The stores write their SQL once, in the dialect both engines accept: <c>@name</c> parameters,
/// <c>INSERT … ON CONFLICT … DO NOTHING/UPDATE</c>, <c>RETURNING</c>, <c>LIMIT</c>, integers as Unix
/// milliseconds and 0/1 flags, and encrypted bodies as binary. What differs (schema, migrations, locks, error
/// classification) lives in the provider's folder (<c>Storage/Sqlite</c>, <c>Storage/Postgres</c>). Thread-safe.
/// </summary>
internal abstract class StoreDatabase : IAsyncDisposable
{
    private readonly SemaphoreSlim _initLock = new(1, 1);
    private volatile bool _initialized;

    /// <summary>Which engine this is.</summary>
    public abstract StorageProvider Provider { get; }

    /// <summary>Where the data is, for logs and messages: the file path, or host/port/database (never a password).</summary>
    public abstract string Location { get; }

    /// <summary>Opens a connection with the schema in place. The caller disposes it.</summary>
    public abstract Task<DbConnection> OpenAsync(CancellationToken cancellationToken);

    /// <summary>Opens a connection for a write. On SQLite the process's writers take turns (see
    /// <see cref="Sqlite.SqliteDatabase.OpenWriterAsync"/>); PostgreSQL takes row locks itself. Hold it only
    /// around database work.</summary>
    public abstract Task<WriteConnection> OpenWriterAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Begins a transaction in which the named sequence is this caller's alone, across every process on the
    /// database, until commit: SQLite takes its write lock at BEGIN (IMMEDIATE); PostgreSQL takes a transaction
    /// advisory lock on the name. Used where a row depends on the one before it (the audit hash chain).
    /// </summary>
    public abstract Task<DbTransaction> BeginSerializedAsync(DbConnection connection, string sequence, CancellationToken cancellationToken);

    /// <summary>Opens the database, brings its schema to this build's version (or refuses one that is newer, or
    /// older when migrations are not automatic), and checks that it can be written, once per process: callers
    /// after the first success return at once, concurrent first callers wait for one attempt, and a failed
    /// attempt is tried again by the next caller. Throws <see cref="StorageStartupException"/> with one line that
    /// names the setting to fix.</summary>
    public async Task EnsureReadyAsync(CancellationToken cancellationToken)
    {
        if (_initialized)
        {
            return;
        }

        await _initLock.WaitAsync(cancellationToken);
        try
        {
            if (!_initialized)
            {
                await InitializeAsync(cancellationToken);
                _initialized = true;
            }
        }
        finally
        {
            _initLock.Release();
        }
    }

    /// <summary>The provider's part of <see cref="EnsureReadyAsync"/>, run until it succeeds once.</summary>
    protected abstract Task InitializeAsync(CancellationToken cancellationToken);

    /// <summary>Opens a connection and runs a query that reads the schema (the readiness probe). Throws when the
    /// database does not answer.</summary>
    public async Task PingAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM inbox WHERE id = 0;";
        await command.ExecuteScalarAsync(cancellationToken);
    }

    /// <summary>The schema version the database is at (0 for none), and the newest this build knows.</summary>
    public abstract Task<(int Current, int Latest)> SchemaVersionAsync(CancellationToken cancellationToken);

    /// <summary>True for an error that says the database is unreachable or busy, not that a statement is wrong:
    /// the caller waits and retries, losing nothing.</summary>
    public abstract bool IsTransient(Exception exception);

    /// <summary>Tells the other instances on this database, when <paramref name="transaction"/> commits. Nothing
    /// on SQLite (one process).</summary>
    public virtual Task NotifyAsync(DbConnection connection, DbTransaction? transaction, StoreSignal signal, long id, CancellationToken cancellationToken) =>
        Task.CompletedTask;

    /// <summary>True where several processes share the state (PostgreSQL): the in-memory shortcuts of one
    /// process (the sender's last-send times) are not the whole truth.</summary>
    public virtual bool Shared => false;

    /// <summary>SQLite's <c>INDEXED BY</c> hint where its planner needs one (measured in GroupWindow); nothing
    /// on PostgreSQL, whose planner chooses from statistics.</summary>
    public virtual string IndexedBy(string index) => "";

    public virtual ValueTask DisposeAsync()
    {
        _initLock.Dispose();
        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }
}

/// <summary>The database cannot be used as configured: the message is one line that names the setting.</summary>
internal sealed class StorageStartupException : InvalidOperationException
{
    public StorageStartupException(string message, Exception? inner = null) : base(message, inner)
    {
    }
}
