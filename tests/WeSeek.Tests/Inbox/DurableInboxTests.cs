using WeSeek.Messaging;
using WeSeek.Security;
using WeSeek.Storage;
using WeSeek.TestKit;
using WeSeek.Tests.Storage;

namespace WeSeek.Tests.Inbox;

public sealed class DurableInboxTests
{
    [Fact]
    public async Task Accept_ConcurrentDuplicates_StoresOnceAndAllSeeTheSameId()
    {
        await using var harness = await CoreHarness.CreateAsync();

        // WeChat retries arrive while the first delivery is still being handled: 3 copies each of 20 messages.
        var deliveries = Enumerable.Range(0, 20).SelectMany(i => Enumerable.Repeat(i, 3))
            .Select(i => Task.Run(async () => (i, await harness.ReceiveAsync($"msg-{i}", $"user-{i % 4}", $"问题 {i}"))));
        var results = await Task.WhenAll(deliveries);

        foreach (var group in results.GroupBy(r => r.i))
        {
            Assert.Single(group, r => r.Item2.Outcome == AcceptOutcome.Stored);
            Assert.Equal(2, group.Count(r => r.Item2.Outcome == AcceptOutcome.Duplicate));
            Assert.Single(group.Select(r => r.Item2.InboxId).Distinct());
        }

        Assert.Equal(20, (await harness.TranscriptAsync()).Count(l => l.Inbound));
    }

    [Fact]
    public async Task Accept_ManyConcurrentCallers_EveryOneAnsweredAndStoredOnce()
    {
        await using var harness = await CoreHarness.CreateAsync();

        // Group commit: whoever writes takes the others' messages along; nobody may be left waiting.
        var results = await Task.WhenAll(Enumerable.Range(0, 600).Select(i => Task.Run(async () => await harness.ReceiveAsync($"m-{i}", $"u-{i % 7}", $"第 {i} 条"))));

        Assert.All(results, r => Assert.Equal(AcceptOutcome.Stored, r.Outcome));
        Assert.Equal(600, results.Select(r => r.InboxId).Distinct().Count());
        Assert.Equal(600, (await harness.TranscriptAsync()).Count(l => l.Inbound));
    }

    [Fact]
    public async Task Accept_DuplicateAfterAnswer_IsNotProcessedAgain()
    {
        await using var harness = await CoreHarness.CreateAsync();
        await harness.ReceiveAsync("m1", "alice", "你好");
        await harness.RunTurnsAsync();

        var again = await harness.ReceiveAsync("m1", "alice", "你好");
        await harness.RunTurnsAsync();

        Assert.Equal(AcceptOutcome.Duplicate, again.Outcome);
        Assert.Single(((ScriptedChatClient)harness.Client).Calls);
        Assert.Single(await harness.TranscriptAsync(), l => !l.Inbound);
    }

    [Fact]
    public async Task Accept_SameIdOnAnotherChannel_IsADifferentMessage()
    {
        await using var harness = await CoreHarness.CreateAsync();
        var first = await harness.ReceiveAsync("42", "alice", "a");
        var other = await harness.Sink.AcceptAsync(
            new InboundMessage(ChannelId.From("webchat"), "local", "42", "alice", "alice", "b", CoreHarness.Start), CancellationToken.None);

        Assert.Equal(AcceptOutcome.Stored, first.Outcome);
        Assert.Equal(AcceptOutcome.Stored, other.Outcome);
        Assert.NotEqual(first.InboxId, other.InboxId);
    }

    [Theory]
    [InlineData("", "alice", "text")]
    [InlineData("id", "", "text")]
    public async Task Accept_InvalidIds_RejectedAndNothingStored(string externalId, string chatId, string text)
    {
        await using var harness = await CoreHarness.CreateAsync();
        var result = await harness.ReceiveAsync(externalId, chatId, text);

        Assert.Equal(AcceptOutcome.Rejected, result.Outcome);
        Assert.False(result.IsAccepted);
        Assert.Empty(await harness.TranscriptAsync());
    }

    [Fact]
    public async Task Accept_OversizedText_RejectedAndNothingStored()
    {
        await using var harness = await CoreHarness.CreateAsync();
        var result = await harness.ReceiveAsync("big", "alice", new string('字', 16_001));

        Assert.Equal(AcceptOutcome.Rejected, result.Outcome);
        Assert.Empty(await harness.TranscriptAsync());
    }

    [Fact]
    public async Task Database_IsInWalMode()
    {
        await using var harness = await CoreHarness.CreateAsync();
        Assert.Equal("wal", await ScalarAsync<string>(harness, "PRAGMA journal_mode"));
    }

    internal static async Task<long> CountAsync(CoreHarness harness, string sql) => await ScalarAsync<long>(harness, sql);

    /// <summary>The outbox's texts (decrypted, as the sender reads them) in order; <paramref name="where"/> filters rows.</summary>
    internal static async Task<List<string>> OutboxTextsAsync(CoreHarness harness, string where = "1 = 1")
    {
        var database = (StoreDatabase)harness.Services.GetService(typeof(StoreDatabase))!;
        var cipher = (RecordCipher)harness.Services.GetService(typeof(RecordCipher))!;
        await using var connection = await database.OpenAsync(CancellationToken.None);
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT text, key_id, inbox_id, seq FROM outbox WHERE {where} ORDER BY inbox_id, seq;";
        var texts = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            texts.Add(cipher.Read(reader, 0, 1, RecordCipher.OutboxText(reader.GetInt64(2), reader.GetInt64(3))));
        }

        return texts;
    }

    internal static async Task<T> ScalarAsync<T>(CoreHarness harness, string sql)
    {
        var database = (StoreDatabase)harness.Services.GetService(typeof(StoreDatabase))!;
        await using var connection = await database.OpenAsync(CancellationToken.None);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return (T)(await command.ExecuteScalarAsync())!;
    }
}
