namespace WeSeek.TestKit;

/// <summary>A fresh directory under the system temp folder, deleted on dispose.</summary>
public sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "weseek-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public void Dispose()
    {
        // Only Windows refuses to delete a database file that a pooled connection holds open. Clearing every pool of
        // the process is not free elsewhere: Microsoft.Data.Sqlite's clear can dispose the native handle of a
        // connection another test (running in parallel) has just taken from its pool ("Cannot access a disposed
        // object. Object name: 'SQLitePCL.sqlite3'", seen in CI).
        if (OperatingSystem.IsWindows())
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        }

        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A process killed by a test may still hold a file for a moment; the temp folder is cleaned later.
        }
    }
}
