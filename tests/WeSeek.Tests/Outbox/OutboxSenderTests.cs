using Microsoft.Extensions.DependencyInjection;
using WeSeek.Messaging;
using WeSeek.Outbox;
using WeSeek.TestKit;
using WeSeek.Tests.Inbox;
using WeSeek.Tests.Storage;

namespace WeSeek.Tests.Outbox;

public sealed class OutboxSenderTests
{
    private static readonly ChannelCapabilities Short = new() { MaxTextLength = 10, MaxTextBytes = 0 };

    [Fact]
    public async Task Outbox_SeveralRepliesToOneChat_SentInOrderAtLeastThePacingIntervalApart()
    {
        // A 30-character answer on a 10-character channel: three replies to one chat.
        var client = new ScriptedChatClient(_ => ["<think>嗯</think>", "一二三四五六七八九十", "一二三四五六七八九十", "一二三四五六七八九十"]);
        await using var harness = await CoreHarness.CreateAsync(client, capabilities: Short);
        await harness.ReceiveAsync("m1", "alice", "长问题");
        await harness.RunTurnsAsync();

        var wake = await harness.SendDueAsync();
        Assert.Single(harness.Channel.Sent);
        Assert.Equal(CoreHarness.Start + TimeSpan.FromSeconds(1.5), wake);

        harness.Time.Advance(TimeSpan.FromSeconds(1.4));
        await harness.SendDueAsync();
        Assert.Single(harness.Channel.Sent);

        harness.Time.Advance(TimeSpan.FromSeconds(0.1));
        await harness.SendDueAsync();
        harness.Time.Advance(TimeSpan.FromSeconds(1.5));
        await harness.SendDueAsync();

        var sent = harness.Channel.Sent;
        Assert.Equal([0, 1, 2], sent.Select(s => s.Message.Sequence));
        Assert.Equal(TimeSpan.FromSeconds(1.5), sent[1].At - sent[0].At);
        Assert.Equal(TimeSpan.FromSeconds(1.5), sent[2].At - sent[1].At);
    }

    [Fact]
    public async Task Outbox_DifferentChats_AreNotPacedAgainstEachOther()
    {
        await using var harness = await CoreHarness.CreateAsync();
        await harness.ReceiveAsync("m1", "alice", "a");
        await harness.ReceiveAsync("m2", "bob", "b");
        await harness.RunTurnsAsync();

        await harness.SendDueAsync();

        Assert.Equal(2, harness.Channel.Sent.Count);
    }

    [Fact]
    public async Task Outbox_DailyCapReached_HoldsSendsUntilMidnightInBeijing()
    {
        await using var harness = await CoreHarness.CreateAsync(settings: new Dictionary<string, string?> { ["Outbox:DailyCap"] = "2" });
        foreach (var user in new[] { "a", "b", "c" })
        {
            await harness.ReceiveAsync("m-" + user, user, "hi");
        }

        await harness.RunTurnsAsync();
        var wake = await harness.SendDueAsync();

        Assert.Equal(2, harness.Channel.Sent.Count);
        var midnightBeijing = new DateTimeOffset(2026, 11, 29, 0, 0, 0, TimeSpan.FromHours(8));
        Assert.Equal(midnightBeijing, wake);
        Assert.Equal(midnightBeijing, Assert.Single(await harness.Services.GetRequiredService<IOutboxStore>().GetHeadsAsync(limit: 512, CancellationToken.None)).NextAttemptAt);

        harness.Time.SetUtcNow(midnightBeijing - TimeSpan.FromSeconds(1));
        await harness.SendDueAsync();
        Assert.Equal(2, harness.Channel.Sent.Count);

        harness.Time.SetUtcNow(midnightBeijing);
        await harness.SendDueAsync();
        Assert.Equal(3, harness.Channel.Sent.Count);
    }

    [Fact]
    public async Task Outbox_DailyCapCountSurvivesRestart()
    {
        using var data = new TempDirectory();
        var settings = new Dictionary<string, string?> { ["Outbox:DailyCap"] = "1" };
        await using (var first = await CoreHarness.CreateAsync(settings: settings, dataDirectory: data.Path))
        {
            await first.ReceiveAsync("m1", "alice", "a");
            await first.ReceiveAsync("m2", "bob", "b");
            await first.RunTurnsAsync();
            await first.SendDueAsync();
            Assert.Single(first.Channel.Sent);
        }

        await using var second = await CoreHarness.CreateAsync(settings: settings, dataDirectory: data.Path);
        await second.SendDueAsync();
        Assert.Empty(second.Channel.Sent);
    }

    [Fact]
    public async Task Outbox_GuardAtDailyCap_ModelIsNotCalled()
    {
        var client = ScriptedChatClient.Echo();
        await using var harness = await CoreHarness.CreateAsync(client, new Dictionary<string, string?> { ["Outbox:DailyCap"] = "1" });
        await harness.ReceiveAsync("m1", "alice", "a");
        await harness.RunTurnsAsync();
        await harness.SendDueAsync();

        await harness.ReceiveAsync("m2", "bob", "b");
        await harness.RunTurnsAsync();

        Assert.Single(client.Calls);
        Assert.Equal("done", (await harness.TranscriptAsync()).Last(l => l.Inbound).State);
    }

    [Fact]
    public async Task Outbox_SendFails_RetriedWithDoublingBackoffAndSentOnce()
    {
        await using var harness = await CoreHarness.CreateAsync();
        harness.Channel.FailNext = 2;
        await harness.ReceiveAsync("m1", "alice", "hi");
        await harness.RunTurnsAsync();

        var firstRetry = await harness.SendDueAsync();
        Assert.Equal(CoreHarness.Start + TimeSpan.FromSeconds(2), firstRetry);
        harness.Time.Advance(TimeSpan.FromSeconds(2));
        var secondRetry = await harness.SendDueAsync();
        Assert.Equal(CoreHarness.Start + TimeSpan.FromSeconds(6), secondRetry);
        harness.Time.Advance(TimeSpan.FromSeconds(4));
        await harness.SendDueAsync();
        harness.Time.Advance(TimeSpan.FromMinutes(10));
        await harness.SendDueAsync();

        Assert.Single(harness.Channel.Sent);
        Assert.Equal("sent", Assert.Single(await harness.TranscriptAsync(), l => !l.Inbound).State);
        Assert.Equal(3L, await DurableInboxTests.ScalarAsync<long>(harness, "SELECT attempts FROM outbox"));
    }

    [Fact]
    public async Task Outbox_SendKeepsFailing_GivenUpAfterMaxAttempts()
    {
        await using var harness = await CoreHarness.CreateAsync(settings: new Dictionary<string, string?> { ["Outbox:MaxAttempts"] = "2" });
        harness.Channel.FailNext = 5;
        await harness.ReceiveAsync("m1", "alice", "hi");
        await harness.RunTurnsAsync();

        await harness.SendDueAsync();
        harness.Time.Advance(TimeSpan.FromMinutes(1));
        await harness.SendDueAsync();
        harness.Time.Advance(TimeSpan.FromMinutes(1));
        await harness.SendDueAsync();

        Assert.Empty(harness.Channel.Sent);
        Assert.Equal("failed", Assert.Single(await harness.TranscriptAsync(), l => !l.Inbound).State);
        Assert.Equal(3, harness.Channel.FailNext);
    }

    [Fact]
    public async Task Outbox_LocalChannel_IsNotPaced()
    {
        var client = new ScriptedChatClient(_ => ["<think>嗯</think>", "一二三四五六七八九十", "一二三四五六七八九十"]);
        await using var harness = await CoreHarness.CreateAsync(client, capabilities: Short with { RateLimited = false });
        await harness.ReceiveAsync("m1", "alice", "q");
        await harness.RunTurnsAsync();

        var next = await harness.SendDueAsync();

        Assert.Equal(2, harness.Channel.Sent.Count);
        Assert.Null(next);
    }
}
