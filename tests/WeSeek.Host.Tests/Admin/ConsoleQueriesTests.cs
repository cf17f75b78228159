using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using WeSeek.Security;
using WeSeek.Storage;
using WeSeek.Storage.Sql;
using WeSeek.TestKit;

namespace WeSeek.Host.Tests.Admin;

/// <summary>The console's read-only queries give the same answers on SQLite and on a real PostgreSQL.</summary>
public sealed class ConsoleQueriesTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Chats_Audit_Activity_AndTheDailyCap_ReadTheSameOnEitherProvider(bool postgres)
    {
        await using var core = await CoreHarness.CreateAsync(
            settings: new Dictionary<string, string?> { ["Outbox:PacingInterval"] = "00:00:00" },
            postgres: postgres ? await PostgresServer.CreateDatabaseAsync() : null);
        await core.ReceiveAsync("m1", "alice", "你好");
        await core.ReceiveAsync("m2", "bob_100%", "在吗");
        await core.RunTurnsAsync();
        await core.SendDueAsync();
        var audit = core.Services.GetRequiredService<AuditLog>();
        await audit.AppendAsync("console.test", new JsonObject { ["n"] = 1 }, CancellationToken.None);
        var queries = new ConsoleQueries(core.Services.GetRequiredService<StoreDatabase>());

        var chats = await queries.ChatsAsync(null, 10, CancellationToken.None);
        Assert.Equal(2, chats.Count);
        Assert.All(chats, c => Assert.Equal(1, c.Messages));
        // The search is a substring: its % is a character, not a wildcard.
        Assert.Equal("bob_100%", Assert.Single(await queries.ChatsAsync("100%", 10, CancellationToken.None)).ChatId);
        Assert.Empty(await queries.ChatsAsync("b%b", 10, CancellationToken.None));

        var records = await queries.AuditAsync("console.", null, 10, CancellationToken.None);
        var record = Assert.Single(records);
        Assert.Equal(1, (int)record.Data!["n"]!);
        Assert.Empty(await queries.AuditAsync("console.", record.Id, 10, CancellationToken.None));
        Assert.True((await queries.AuditAsync(null, null, 100, CancellationToken.None)).Count > 1);

        var activity = Assert.Single(await queries.ActivityAsync(CancellationToken.None));
        Assert.NotNull(activity.LastMessage);
        Assert.Null(activity.LastError);
        var day = TimeZoneInfo.ConvertTime(core.Time.GetUtcNow(), TimeZoneInfo.FindSystemTimeZoneById("Asia/Shanghai")).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(2, Assert.Single(await queries.DailyCapAsync(day, CancellationToken.None)).Sent);
    }
}
