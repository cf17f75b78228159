using System.ComponentModel.DataAnnotations;

namespace WeSeek.Storage;

/// <summary>Where WeSeek keeps its state. Section <c>Storage</c>.</summary>
public sealed class StorageOptions
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

    /// <summary>The database file inside <see cref="DataDirectory"/>.</summary>
    public string DatabasePath => Path.Combine(DataDirectory, "weseek.db");
}
