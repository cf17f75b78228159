using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using WeSeek.Storage;
using WeSeek.Storage.Sqlite;
using WeSeek.TestKit;

namespace WeSeek.Tests.Storage;

/// <summary>Processes sharing one SQLite file on a fresh install all migrate it at the same moment.</summary>
public sealed class SqliteMigrationRaceTests
{
    [Fact]
    public async Task DatabasesOnOneFreshFile_ReadyAtOnce_AllSucceed_AndEachMigrationIsRecordedOnce()
    {
        for (var round = 0; round < 10; round++)
        {
            using var data = new TempDirectory();
            var options = Options.Create(new StorageOptions { DataDirectory = data.Path });
            var databases = Enumerable.Range(0, 6).Select(_ => new SqliteDatabase(options, NullLogger<SqliteDatabase>.Instance)).ToList();
            try
            {
                using var start = new ManualResetEventSlim();
                var ready = databases.Select(d => Task.Run(async () =>
                {
                    start.Wait();
                    await d.EnsureReadyAsync(CancellationToken.None);
                })).ToList();
                start.Set();
                await Task.WhenAll(ready);

                var (current, latest) = await databases[0].SchemaVersionAsync(CancellationToken.None);
                Assert.Equal(latest, current);
                await using var connection = await databases[0].OpenAsync(CancellationToken.None);
                await using var command = connection.CreateCommand();
                command.CommandText = "SELECT COUNT(*) FROM schema_migrations;";
                Assert.Equal((long)latest, (long)(await command.ExecuteScalarAsync(CancellationToken.None))!);
            }
            finally
            {
                foreach (var database in databases)
                {
                    await database.DisposeAsync();
                }
            }
        }
    }
}
