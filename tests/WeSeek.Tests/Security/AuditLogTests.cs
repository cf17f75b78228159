using System.Text.Json.Nodes;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using WeSeek.Security;
using WeSeek.Tests.Inbox;
using WeSeek.Storage;
using WeSeek.Storage.Sqlite;
using WeSeek.TestKit;

namespace WeSeek.Tests.Security;

public sealed class AuditLogTests
{
    [Fact]
    public async Task Turn_RecordsTheModelCallAndTheSend_WithHashesNotTexts()
    {
        await using var harness = await CoreHarness.CreateAsync();
        await harness.ReceiveAsync("m1", "alice", "审计测试 quokka-913");
        await harness.RunTurnsAsync();
        await harness.SendDueAsync();

        var records = await ReadAsync(harness);
        Assert.Equal(["model.call", "message.sent"], records.Select(r => r.Kind));
        var call = records[0].Data;
        Assert.Equal(AuditLog.Sha256("答：审计测试 quokka-913"), call["answerSha256"]!.GetValue<string>());
        Assert.NotNull(call["latencyMs"]);
        Assert.Equal(0.6f, call["temperature"]!.GetValue<float>());
        var sent = records[1].Data;
        Assert.Equal(AuditLog.Sha256("答：审计测试 quokka-913"), sent["textSha256"]!.GetValue<string>());
        Assert.Equal("alice", sent["chat"]!.GetValue<string>());
        Assert.All(records, r => Assert.DoesNotContain("quokka-913", r.Data.ToJsonString(), StringComparison.Ordinal));

        var verification = await harness.Services.GetRequiredService<AuditLog>().VerifyAsync(CancellationToken.None);
        Assert.True(verification.IsIntact, verification.Problem);
        Assert.Equal(2, verification.Records);
    }

    [Fact]
    public async Task Audit_IsAppendOnlyInTheDatabaseItself()
    {
        await using var harness = await CoreHarness.CreateAsync();
        await AppendAsync(harness, 2);
        await Assert.ThrowsAsync<Microsoft.Data.Sqlite.SqliteException>(() => DurableInboxTests.ScalarAsync<object?>(harness, "UPDATE audit SET data = '{}' WHERE id = 1"));
        await Assert.ThrowsAsync<Microsoft.Data.Sqlite.SqliteException>(() => DurableInboxTests.ScalarAsync<object?>(harness, "DELETE FROM audit WHERE id = 1"));
    }

    [Theory]
    [InlineData("UPDATE audit SET data = '{\"kind\":\"forged\"}' WHERE id = 3", 3, "edited")]
    [InlineData("DELETE FROM audit WHERE id = 3", 4, "deleted")]
    [InlineData("UPDATE audit SET id = 100 WHERE id = 2; UPDATE audit SET id = 2 WHERE id = 3; UPDATE audit SET id = 3 WHERE id = 100", 2, "")]
    public async Task Verify_TamperedRecord_NamesTheFirstBrokenRecord(string tamper, long broken, string problem)
    {
        await using var harness = await CoreHarness.CreateAsync();
        await AppendAsync(harness, 5);
        Assert.True((await harness.Services.GetRequiredService<AuditLog>().VerifyAsync(CancellationToken.None)).IsIntact);

        // Someone with write access to the file drops the guards first.
        await DurableInboxTests.ScalarAsync<object?>(harness, "DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete; " + tamper);

        var verification = await harness.Services.GetRequiredService<AuditLog>().VerifyAsync(CancellationToken.None);
        Assert.False(verification.IsIntact);
        Assert.Equal(broken, verification.BrokenId);
        Assert.Contains(problem, verification.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_RecordForgedWithItsOwnHashRecomputed_NamesTheNextRecord()
    {
        await using var harness = await CoreHarness.CreateAsync();
        await AppendAsync(harness, 5);
        var (at, prev) = (await DurableInboxTests.ScalarAsync<long>(harness, "SELECT at FROM audit WHERE id = 3"), await DurableInboxTests.ScalarAsync<string>(harness, "SELECT prev_hash FROM audit WHERE id = 3"));
        var forged = "{\"i\":42}";
        var ring = harness.Services.GetRequiredService<KeyRing>();
        var hash = AuditLog.KeyedHashOf(ring.Current, ring.CurrentId, prev, 3, at, "test", forged);
        await DurableInboxTests.ScalarAsync<object?>(harness, $"DROP TRIGGER audit_no_update; UPDATE audit SET data = '{forged}', hash = '{hash}' WHERE id = 3");

        var verification = await harness.Services.GetRequiredService<AuditLog>().VerifyAsync(CancellationToken.None);
        Assert.Equal(4, verification.BrokenId);
        Assert.Contains("does not link", verification.Problem, StringComparison.Ordinal);
        Assert.Equal(3, verification.Records);
    }

    [Fact]
    public async Task Verify_RecordEditedWithEveryLaterHashRecomputedWithoutTheKey_NamesTheEditedRecord()
    {
        // The attack: whoever can write the database edits record 3 and recomputes the hashes of it and every
        // later record with the published formula (SHA-256 over previous | id | time | kind | data).
        await using var harness = await CoreHarness.CreateAsync();
        await AppendAsync(harness, 5);
        await DurableInboxTests.ScalarAsync<object?>(harness, "DROP TRIGGER audit_no_update; UPDATE audit SET data = '{\"i\":42}' WHERE id = 3");
        await RehashWithoutKeyAsync(harness, from: 3);

        var verification = await harness.Services.GetRequiredService<AuditLog>().VerifyAsync(CancellationToken.None);

        Assert.False(verification.IsIntact);
        Assert.Equal(3, verification.BrokenId);
        Assert.Equal(2, verification.Records);
    }

    [Fact]
    public async Task Verify_WholeLogRewrittenWithoutTheKey_IsNotIntact()
    {
        // The downgrade: every record rewritten in the unkeyed form that records from before keying use.
        await using var harness = await CoreHarness.CreateAsync();
        await AppendAsync(harness, 4);
        await DurableInboxTests.ScalarAsync<object?>(harness, "DROP TRIGGER audit_no_update; UPDATE audit SET data = '{\"i\":42}' WHERE id = 2");
        await RehashWithoutKeyAsync(harness, from: 1);

        var verification = await harness.Services.GetRequiredService<AuditLog>().VerifyAsync(CancellationToken.None);

        Assert.False(verification.IsIntact);
        Assert.Equal(1, verification.BrokenId);
        Assert.Contains("not keyed", verification.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_UnkeyedRecordsFromBeforeKeying_AreCoveredByTheFirstKeyedRecord()
    {
        await using var harness = await CoreHarness.CreateAsync();
        var previous = AuditLog.Genesis;
        for (var id = 1; id <= 2; id++)
        {
            var hash = AuditLog.HashOf(previous, id, 1000 + id, "legacy", "{}");
            await DurableInboxTests.ScalarAsync<object?>(harness, $"INSERT INTO audit (id, at, kind, data, prev_hash, hash) VALUES ({id}, {1000 + id}, 'legacy', '{{}}', '{previous}', '{hash}')");
            previous = hash;
        }

        await AppendAsync(harness, 1);
        var log = harness.Services.GetRequiredService<AuditLog>();
        Assert.True((await log.VerifyAsync(CancellationToken.None)).IsIntact);

        // Editing a legacy record and recomputing the legacy chain changes the link the keyed record covers.
        await DurableInboxTests.ScalarAsync<object?>(harness, "DROP TRIGGER audit_no_update; UPDATE audit SET data = '{\"i\":1}' WHERE id = 1");
        await RehashWithoutKeyAsync(harness, from: 1, to: 2);
        var verification = await log.VerifyAsync(CancellationToken.None);
        Assert.Equal(3, verification.BrokenId);
    }

    [Fact]
    public async Task ConcurrentAppends_FromTwoWritersOnOneFile_KeepOneChain()
    {
        await using var harness = await CoreHarness.CreateAsync();
        // A second database object and log on the same file: another process, as far as SQLite can tell.
        await using var otherDatabase = new SqliteDatabase(harness.Services.GetRequiredService<IOptions<StorageOptions>>(), NullLogger<SqliteDatabase>.Instance);
        using var other = new AuditLog(new WeSeek.Storage.Sql.AuditStore(otherDatabase), harness.Services.GetRequiredService<KeyRing>(), TimeProvider.System);
        var first = harness.Services.GetRequiredService<AuditLog>();
        var writers = Enumerable.Range(0, 8).Select(w => Task.Run(async () =>
        {
            var log = w % 2 == 0 ? first : other;
            for (var i = 0; i < 25; i++)
            {
                await log.AppendAsync("test", new JsonObject { ["writer"] = w, ["i"] = i }, CancellationToken.None);
            }
        }));
        await Task.WhenAll(writers);

        var verification = await first.VerifyAsync(CancellationToken.None);
        Assert.True(verification.IsIntact, verification.Problem);
        Assert.Equal(200, verification.Records);
        Assert.Equal(200, await DurableInboxTests.CountAsync(harness, "SELECT COUNT(DISTINCT prev_hash) FROM audit"));
    }

    [Fact]
    public async Task StartUp_RecordsTheConfigurationRedacted_AndWhetherItChanged()
    {
        await using var harness = await CoreHarness.CreateAsync();
        var audit = harness.Services.GetRequiredService<AuditLog>();
        var first = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["OfficialAccount:Accounts:0:AppSecret"] = "app-secret-value-77",
            ["OfficialAccount:Accounts:0:Token"] = "callback-token-88",
            ["Model:Remote:ApiKey"] = "sk-live-99",
            ["Outbox:DailyCap"] = "100",
            ["PATH"] = "/usr/bin",
        }).Build();
        var hash1 = await new ConfigurationAudit(first, audit, NullLogger<ConfigurationAudit>.Instance).RecordAsync(CancellationToken.None);
        var again = await new ConfigurationAudit(first, audit, NullLogger<ConfigurationAudit>.Instance).RecordAsync(CancellationToken.None);
        first["Outbox:DailyCap"] = "200";
        var hash2 = await new ConfigurationAudit(first, audit, NullLogger<ConfigurationAudit>.Instance).RecordAsync(CancellationToken.None);

        Assert.Equal(hash1, again);
        Assert.NotEqual(hash1, hash2);
        var records = await ReadAsync(harness);
        Assert.Equal([true, false, true], records.Select(r => r.Data["changed"]!.GetValue<bool>()));
        var json = string.Join('\n', records.Select(r => r.Data.ToJsonString()));
        Assert.DoesNotContain("app-secret-value-77", json, StringComparison.Ordinal);
        Assert.DoesNotContain("callback-token-88", json, StringComparison.Ordinal);
        Assert.DoesNotContain("sk-live-99", json, StringComparison.Ordinal);
        Assert.DoesNotContain("/usr/bin", json, StringComparison.Ordinal);
        Assert.Equal("***", records[0].Data["configuration"]!["OfficialAccount:Accounts:0:AppSecret"]!.GetValue<string>());
        Assert.Equal("200", records[2].Data["configuration"]!["Outbox:DailyCap"]!.GetValue<string>());
    }

    private static async Task AppendAsync(CoreHarness harness, int count)
    {
        var audit = harness.Services.GetRequiredService<AuditLog>();
        for (var i = 0; i < count; i++)
        {
            await audit.AppendAsync("test", new JsonObject { ["i"] = i }, CancellationToken.None);
        }
    }

    private static async Task<List<(string Kind, JsonObject Data)>> ReadAsync(CoreHarness harness)
    {
        var database = harness.Services.GetRequiredService<SqliteDatabase>();
        await using var connection = await database.OpenAsync(CancellationToken.None);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT kind, data FROM audit ORDER BY id";
        var result = new List<(string, JsonObject)>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            result.Add((reader.GetString(0), (JsonObject)JsonNode.Parse(reader.GetString(1))!));
        }

        return result;
    }

    private static async Task RehashWithoutKeyAsync(CoreHarness harness, long from, long to = long.MaxValue)
    {
        var previous = from == 1 ? AuditLog.Genesis : await DurableInboxTests.ScalarAsync<string>(harness, $"SELECT hash FROM audit WHERE id = {from - 1}");
        var last = Math.Min(to, await DurableInboxTests.ScalarAsync<long>(harness, "SELECT MAX(id) FROM audit"));
        for (var id = from; id <= last; id++)
        {
            var at = await DurableInboxTests.ScalarAsync<long>(harness, $"SELECT at FROM audit WHERE id = {id}");
            var kind = await DurableInboxTests.ScalarAsync<string>(harness, $"SELECT kind FROM audit WHERE id = {id}");
            var data = await DurableInboxTests.ScalarAsync<string>(harness, $"SELECT data FROM audit WHERE id = {id}");
            var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes($"{previous}\n{id}\n{at}\n{kind}\n{data}")));
            await DurableInboxTests.ScalarAsync<object?>(harness, $"UPDATE audit SET prev_hash = '{previous}', hash = '{hash}' WHERE id = {id}");
            previous = hash;
        }
    }
}
