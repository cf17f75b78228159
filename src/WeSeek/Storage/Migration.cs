namespace WeSeek.Storage;

/// <summary>One numbered schema change. The same number means the same change on every provider.</summary>
internal sealed record Migration(int Version, string Description, string Sql);

/// <summary>The start-up checks of a database's schema version against the build's.</summary>
internal static class SchemaCheck
{
    public static void ThrowIfNewer(int current, int latest, string location, string setting)
    {
        if (current > latest)
        {
            throw new StorageStartupException(
                $"the database at {location} is at schema version {current}, newer than this build's {latest}: it was written by a newer weseek. " +
                $"Run that version (or newer), or point {setting} (environment variable {Environment(setting)}) at another database.");
        }
    }

    public static void ThrowIfOlder(int current, int latest, string location) =>
        throw new StorageStartupException(
            $"the database at {location} is at schema version {current}, older than this build's {latest}, and Storage:AutoMigrate is false: " +
            "run 'weseek db migrate' once (with the same Storage settings), then start again.");

    public static string Environment(string key) => "WESEEK__" + key.Replace(":", "__", StringComparison.Ordinal);
}
