using System.ComponentModel.DataAnnotations;

namespace WeSeek.Storage;

/// <summary>Where WeSeek keeps its state. Section <c>Storage</c>.</summary>
public sealed class StorageOptions : IValidatableObject
{
    /// <summary>The data directory: the SQLite database, the key file, models and the knowledge base. The
    /// <c>weseek</c> host always sets it (<c>WESEEK_HOME</c>, else a per-user directory; <c>--data</c> for one
    /// command); <c>data</c>, relative to the working directory, only for a library user who sets nothing.</summary>
    [Required]
    public string DataDirectory { get; set; } = "data";

    /// <summary>How long a write waits for SQLite's lock. Default 5 s: far above any single write here
    /// (milliseconds), short enough that a stuck process shows up in the logs.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:01:00")]
    public TimeSpan BusyTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Where the state lives: <c>sqlite</c> (default: one file in <see cref="DataDirectory"/>, one
    /// process, nothing to install) or <c>postgres</c> (<see cref="ConnectionString"/>: one or several
    /// <c>weseek serve</c> instances on one database, docs/scale-out.md).</summary>
    public StorageProvider Provider { get; set; } = StorageProvider.Sqlite;

    /// <summary>The PostgreSQL connection string (Npgsql's keywords: <c>Host=db;Database=weseek;Username=weseek;Password=…</c>),
    /// for <c>Provider=postgres</c>; set it through <c>WESEEK__Storage__ConnectionString</c> or a secret, not a
    /// committed file. No default: there is no database to guess.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>Whether start-up brings an older schema to this build's version. Default true: the embedded
    /// install upgrades itself. A fleet may set false and run <c>weseek db migrate</c> once per release; an
    /// instance then refuses an older schema with a line saying so. A newer schema is always refused.</summary>
    public bool AutoMigrate { get; set; } = true;

    /// <summary>How long opening a PostgreSQL connection may take (Npgsql's <c>Timeout</c>, unless the connection
    /// string names one). Default 15 s: Npgsql's own default. A database that stops answering while WeSeek runs
    /// is retried every 2 s by the background loops.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>The database file inside <see cref="DataDirectory"/>.</summary>
    public string DatabasePath => Path.Combine(DataDirectory, "weseek.db");

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        // Whether Npgsql accepts the string is checked by the core, which carries Npgsql (AddStorageSection).
        if (Provider == StorageProvider.Postgres && string.IsNullOrWhiteSpace(ConnectionString))
        {
            yield return new ValidationResult("is required with Storage:Provider=postgres: Host=…;Database=…;Username=…;Password=…", [nameof(ConnectionString)]);
        }
    }
}

/// <summary>The engines WeSeek can keep its state in (<c>Storage:Provider</c>).</summary>
public enum StorageProvider
{
    /// <summary>One SQLite file in the data directory (WAL): the embedded default, one process.</summary>
    Sqlite,

    /// <summary>PostgreSQL at <c>Storage:ConnectionString</c>: one or several instances.</summary>
    Postgres,
}
