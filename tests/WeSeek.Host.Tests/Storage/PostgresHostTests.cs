using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using WeSeek.Security;
using WeSeek.TestKit;

namespace WeSeek.Host.Tests.Storage;

/// <summary>The real executable on PostgreSQL: start-up refuses a database it cannot use in one line naming the
/// setting, and an embedded install moves to PostgreSQL with its verbs working there.</summary>
public sealed class PostgresHostTests
{
    private static string[] Serve(string dataDirectory, string connectionString) =>
        ["serve", "--urls", "http://127.0.0.1:0", $"--Storage:DataDirectory={dataDirectory}", "--Model:Provider=remote", "--Storage:Provider=postgres", $"--Storage:ConnectionString={connectionString}"];

    private static string StartUpLine(string error)
    {
        Assert.DoesNotContain("   at ", error, StringComparison.Ordinal);
        return Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries), l => l.StartsWith("WeSeek cannot start", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Serve_PostgresUnreachable_StopsWithOneLineNamingTheSetting()
    {
        using var data = new TempDirectory();
        using var closed = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        closed.Start();
        var port = ((System.Net.IPEndPoint)closed.LocalEndpoint).Port;
        closed.Stop();

        var (exitCode, _, error) = await WeseekProcess.RunAsync(Serve(data.Path, $"Host=127.0.0.1;Port={port};Username=weseek;Password=secret-pw;Timeout=3"));

        Assert.Equal(2, exitCode);
        var line = StartUpLine(error);
        Assert.Contains("unreachable", line, StringComparison.Ordinal);
        Assert.Contains("Storage:ConnectionString (environment variable WESEEK__Storage__ConnectionString)", line, StringComparison.Ordinal);
        Assert.DoesNotContain("secret-pw", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Host=127.0.0.1;Bogus Keyword=1", "Storage:ConnectionString")]
    [InlineData("", "Storage:ConnectionString")]
    public async Task Serve_BadConnectionString_StopsWithOneLineNamingTheSetting(string connectionString, string expected)
    {
        using var data = new TempDirectory();
        var (exitCode, _, error) = await WeseekProcess.RunAsync(Serve(data.Path, connectionString));

        Assert.Equal(2, exitCode);
        Assert.Contains(expected, StartUpLine(error), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_SchemaFromANewerBuild_IsRefused_AndAReadOnlyDatabaseToo()
    {
        using var data = new TempDirectory();
        var newer = await PostgresServer.CreateDatabaseAsync();
        await ExecuteAsync(newer, "CREATE TABLE schema_migrations (version BIGINT PRIMARY KEY, description TEXT NOT NULL, applied_at BIGINT NOT NULL); INSERT INTO schema_migrations VALUES (999, 'from the future', 0);");
        var (exitCode, _, error) = await WeseekProcess.RunAsync(Serve(data.Path, newer));
        Assert.Equal(2, exitCode);
        var line = StartUpLine(error);
        Assert.Contains("schema version 999, newer than this build's", line, StringComparison.Ordinal);

        var readOnly = await PostgresServer.CreateDatabaseAsync();
        var name = new NpgsqlConnectionStringBuilder(readOnly).Database;
        await ExecuteAsync((await PostgresServer.SharedAsync()).AdminConnectionString, $"ALTER DATABASE {name} SET default_transaction_read_only = on;");
        (exitCode, _, error) = await WeseekProcess.RunAsync(Serve(data.Path, readOnly));
        Assert.Equal(2, exitCode);
        Assert.Contains("is read-only", StartUpLine(error), StringComparison.Ordinal);
    }

    [Fact]
    public async Task DbMigrateToPostgres_MovesAnEmbeddedInstall_AndTheVerbsWorkOnIt()
    {
        using var data = new TempDirectory();
        await using (var core = await CoreHarness.CreateAsync(dataDirectory: data.Path))
        {
            await core.ReceiveAsync("m1", "alice", "迁移前的问题");
            await core.RunTurnsAsync();
            await core.SendDueAsync();
            await core.Services.GetRequiredService<AuditLog>().AppendAsync("test.before-move", new JsonObject { ["n"] = 1 }, CancellationToken.None);
        }

        var target = await PostgresServer.CreateDatabaseAsync();
        var (exitCode, output, error) = await WeseekProcess.RunAsync(["db", "migrate", "--to", "postgres", "--connection-string", target, "--data", data.Path]);
        Assert.True(exitCode == 0, error);
        Assert.Contains("inbox 1", output, StringComparison.Ordinal);

        string[] onPostgres = ["--data", data.Path, "--Storage:Provider=postgres", $"--Storage:ConnectionString={target}"];
        (exitCode, output, error) = await WeseekProcess.RunAsync(["audit", "verify", .. onPostgres]);
        Assert.True(exitCode == 0, error);
        Assert.Contains("intact", output, StringComparison.Ordinal);

        (exitCode, output, error) = await WeseekProcess.RunAsync(["logs", "export", "--decrypt", .. onPostgres]);
        Assert.True(exitCode == 0, error);
        Assert.Contains("迁移前的问题", output, StringComparison.Ordinal);
        Assert.Contains("答：迁移前的问题", output, StringComparison.Ordinal);

        (exitCode, output, error) = await WeseekProcess.RunAsync(["admin", "key", "create", "--name", "ops", .. onPostgres]);
        Assert.True(exitCode == 0, error);
        (exitCode, output, error) = await WeseekProcess.RunAsync(["admin", "key", "list", .. onPostgres]);
        Assert.True(exitCode == 0, error);
        Assert.Contains("ops", output, StringComparison.Ordinal);

        // Moved once: a second copy into the same database is refused.
        (exitCode, _, error) = await WeseekProcess.RunAsync(["db", "migrate", "--to", "postgres", "--connection-string", target, "--data", data.Path]);
        Assert.Equal(2, exitCode);
        Assert.Contains("already holds data", error, StringComparison.Ordinal);

        // And the migrated store serves: the message is not answered again, new ones are.
        await using var moved = await CoreHarness.CreateAsync(dataDirectory: data.Path, postgres: target);
        Assert.Equal(WeSeek.Messaging.AcceptOutcome.Duplicate, (await moved.ReceiveAsync("m1", "alice", "迁移前的问题")).Outcome);
        await moved.ReceiveAsync("m2", "alice", "迁移后");
        await moved.RunTurnsAsync();
        // The chat's last send (copied, at the same virtual time) still paces the next one.
        moved.Time.Advance(TimeSpan.FromSeconds(2));
        await moved.SendDueAsync();
        Assert.Equal("答：迁移后", Assert.Single(moved.Channel.Sent).Message.Text);
    }

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
