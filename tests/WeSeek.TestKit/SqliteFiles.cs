namespace WeSeek.TestKit;

/// <summary>The raw bytes of a SQLite database in WAL mode, for tests that scan the files for plaintext.</summary>
public static class SqliteFiles
{
    /// <summary>Reads the -wal file first, then the database. SQLite removes the -wal when its last connection
    /// closes (any test clearing the process's connection pools can cause that at any moment), but only after
    /// checkpointing every page into the database: whenever that happens, the pages are in one of the two files
    /// at the moment that file is read.</summary>
    public static IReadOnlyList<(string Name, byte[] Bytes)> ReadAll(string databasePath)
    {
        var files = new List<(string, byte[])>();
        if (ReadIfPresent(databasePath + "-wal") is { } wal)
        {
            files.Add((Path.GetFileName(databasePath) + "-wal", wal));
        }

        var database = ReadIfPresent(databasePath) ?? throw new FileNotFoundException("The database file is missing.", databasePath);
        files.Add((Path.GetFileName(databasePath), database));
        return files;
    }

    /// <summary>All the files' bytes as one Latin-1 string, for <c>Assert.DoesNotContain</c>.</summary>
    public static string ReadAllAsText(string databasePath) =>
        string.Concat(ReadAll(databasePath).Select(f => System.Text.Encoding.Latin1.GetString(f.Bytes)));

    private static byte[]? ReadIfPresent(string path)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            return copy.ToArray();
        }
        catch (FileNotFoundException)
        {
            return null;
        }
    }
}
