using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using WeSeek.Feedback;
using WeSeek.Messaging;
using WeSeek.Security;
using WeSeek.Storage.Sqlite;
using WeSeek.TestKit;
using WeSeek.Tests.Inbox;

namespace WeSeek.Tests.Feedback;

/// <summary>Ratings typed in a WeChat chat, through the real pipeline on real SQLite.</summary>
public sealed class FeedbackCaptureTests
{
    [Theory]
    [InlineData("👍", FeedbackKind.Up, null)]
    [InlineData(" 👍🏻 ", FeedbackKind.Up, null)]
    [InlineData("👍️", FeedbackKind.Up, null)]
    [InlineData("[强]", FeedbackKind.Up, null)]
    [InlineData("/好评", FeedbackKind.Up, null)]
    [InlineData("👎", FeedbackKind.Down, null)]
    [InlineData("[弱]", FeedbackKind.Down, null)]
    [InlineData("/差评", FeedbackKind.Down, null)]
    [InlineData("／差评：应该是北京", FeedbackKind.Down, "应该是北京")]
    [InlineData("👎 更好的回答是：先关机再开机", FeedbackKind.Down, "更好的回答是：先关机再开机")]
    public void Parse_Ratings(string text, FeedbackKind kind, string? correction)
    {
        var rating = FeedbackMiddleware.Parse(text);
        Assert.NotNull(rating);
        Assert.Equal(kind, rating.Value.Kind);
        Assert.Equal(correction, rating.Value.Correction);
    }

    [Theory]
    [InlineData("👍 那第二个问题呢？")]
    [InlineData("/好评价一下这本书")]
    [InlineData("我觉得👍")]
    [InlineData("好评")]
    [InlineData("")]
    public void Parse_OtherMessages_AreNotRatings(string text) => Assert.Null(FeedbackMiddleware.Parse(text));

    [Fact]
    public async Task ThumbsDownWithACorrection_RatesTheLastAnswer_IsAcknowledged_AndNeverReachesTheModel()
    {
        var client = ScriptedChatClient.Echo();
        await using var harness = await CoreHarness.CreateAsync(client);
        using var counted = new MetricCollector<long>(harness.Services.GetRequiredService<IMeterFactory>(), "WeSeek", "weseek.feedback");
        await harness.ReceiveAsync("m1", "alice", "中国的首都是哪里？");
        await harness.RunTurnsAsync();
        harness.Time.Advance(TimeSpan.FromMinutes(3));
        await harness.ReceiveAsync("m2", "alice", "/差评 更好的回答是：北京。");
        await harness.RunTurnsAsync();
        await harness.ReceiveAsync("m3", "alice", "谢谢");
        await harness.RunTurnsAsync();

        var record = Assert.Single(await ReadAsync(harness));
        var replies = await DurableInboxTests.OutboxTextsAsync(harness);
        Assert.Equal(2, client.Calls.Count); // The rating was not a question.
        Assert.DoesNotContain(client.Calls[1], m => m.Text.Contains("差评", StringComparison.Ordinal)); // Nor is it in the next prompt.
        Assert.Contains("更正", replies[1], StringComparison.Ordinal);
        Assert.Equal(FeedbackKind.Down, record.Kind);
        Assert.Equal("更好的回答是：北京。", record.Correction);
        Assert.Equal("答：中国的首都是哪里？", record.Answer.Answer); // The answer, never the reasoning.
        Assert.Equal(client.Calls[0].Select(m => (m.Role.Value, m.Text)), record.Answer.Prompt.Select(m => (m.Role, m.Content)));
        Assert.Equal([("down", "true")], counted.GetMeasurementSnapshot().Select(m => ((string)m.Tags["kind"]!, (string)m.Tags["correction"]!)));
    }

    [Fact]
    public async Task ARating_WithNoRecentAnswer_GetsAShortExplanation_AndStoresNothing()
    {
        await using var harness = await CoreHarness.CreateAsync();
        await harness.ReceiveAsync("m1", "alice", "👍");
        await harness.RunTurnsAsync();
        await harness.ReceiveAsync("m2", "alice", "你好");
        await harness.RunTurnsAsync();
        harness.Time.Advance(TimeSpan.FromMinutes(11)); // Past Feedback:Window (10 minutes).
        await harness.ReceiveAsync("m3", "alice", "👎");
        await harness.RunTurnsAsync();
        await harness.ReceiveAsync("m4", "bob", "👍"); // Bob was never answered.
        await harness.RunTurnsAsync();

        var replies = await DurableInboxTests.OutboxTextsAsync(harness);
        Assert.Equal(4, replies.Count);
        Assert.All(new[] { replies[0], replies[2], replies[3] }, r => Assert.StartsWith("没有找到 10 分钟内的回答可以评价", r, StringComparison.Ordinal));
        Assert.DoesNotContain('\n', replies[0]);
        Assert.Empty(await ReadAsync(harness));
    }

    [Fact]
    public async Task RatingsAndTheirAnswers_AreEncryptedAtRest_AndAudited()
    {
        await using var harness = await CoreHarness.CreateAsync();
        await harness.ReceiveAsync("m1", "alice", "我的手机号是13812345678");
        await harness.RunTurnsAsync();
        await harness.ReceiveAsync("m2", "alice", "👎 不应该重复我的号码");
        await harness.RunTurnsAsync();

        var all = SqliteFiles.ReadAllAsText(harness.Services.GetRequiredService<SqliteDatabase>().Path);
        Assert.DoesNotContain("13812345678", all, StringComparison.Ordinal);
        Assert.DoesNotContain("不应该重复", all, StringComparison.Ordinal);
        Assert.Single(await ReadAsync(harness));
        var audit = (await harness.Services.GetRequiredService<AuditLog>().LastDataAsync("feedback", CancellationToken.None))!.ToJsonString();
        Assert.Contains("\"kind\":\"down\"", audit, StringComparison.Ordinal);
        Assert.Contains("correctionSha256", audit, StringComparison.Ordinal);
        Assert.DoesNotContain("不应该", audit, StringComparison.Ordinal);
        Assert.True((await harness.Services.GetRequiredService<AuditLog>().VerifyAsync(CancellationToken.None)).IsIntact);
    }

    [Fact]
    public async Task TheWebChatPath_RatesOnlyAnAnswerGivenInThatChat()
    {
        await using var harness = await CoreHarness.CreateAsync();
        var accepted = await harness.ReceiveAsync("m1", "alice", "你好");
        await harness.RunTurnsAsync();
        var feedback = harness.Services.GetRequiredService<IAnswerFeedback>();
        var channel = ChannelId.From("wechat");

        var someoneElse = await feedback.RecordAsync(new AnswerFeedback(channel, "mallory", accepted.InboxId, FeedbackKind.Down, "spam"), CancellationToken.None);
        var tooLong = await feedback.RecordAsync(new AnswerFeedback(channel, "alice", accepted.InboxId, FeedbackKind.Down, new string('长', 4001)), CancellationToken.None);
        var own = await feedback.RecordAsync(new AnswerFeedback(channel, "alice", accepted.InboxId, FeedbackKind.Up, null), CancellationToken.None);
        var changedMind = await feedback.RecordAsync(new AnswerFeedback(channel, "alice", accepted.InboxId, FeedbackKind.Down, "更好的回答"), CancellationToken.None);

        Assert.Equal(FeedbackOutcome.NoSuchAnswer, someoneElse);
        Assert.Equal(FeedbackOutcome.TooLong, tooLong);
        Assert.Equal(FeedbackOutcome.Recorded, own);
        Assert.Equal(FeedbackOutcome.Recorded, changedMind);
        var record = Assert.Single(await ReadAsync(harness));
        Assert.Equal((FeedbackKind.Down, "更好的回答"), (record.Kind, record.Correction));
    }

    internal static async Task<List<FeedbackRecord>> ReadAsync(CoreHarness harness)
    {
        var list = new List<FeedbackRecord>();
        await foreach (var record in harness.Services.GetRequiredService<IFeedbackStore>().ReadAsync(DateTimeOffset.MinValue, CancellationToken.None))
        {
            list.Add(record);
        }

        return list;
    }

}
