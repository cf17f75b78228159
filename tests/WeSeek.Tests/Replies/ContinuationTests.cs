using WeSeek.Messaging;
using WeSeek.TestKit;

namespace WeSeek.Tests.Replies;

/// <summary>「继续」 through the whole core: the first page now, the next pages on request, without the model.</summary>
public sealed class ContinuationTests
{
    private static readonly ChannelCapabilities OneMessagePerTrigger = new() { MaxTextLength = 80, MaxTextBytes = 2048, MaxMessagesPerTrigger = 1 };

    private static readonly string LongQuestion = string.Join("\n", Enumerable.Range(1, 6).Select(i => $"第{i}段：" + string.Concat(Enumerable.Repeat("一些需要回答的内容。", 4))));

    [Fact]
    public async Task LongAnswer_FirstPageNow_ContinueSendsTheRestWithoutTheModel()
    {
        var model = ScriptedChatClient.Echo();
        await using var core = await CoreHarness.CreateAsync(model, capabilities: OneMessagePerTrigger, settings: new Dictionary<string, string?> { ["Outbox:PacingInterval"] = "00:00:00" });

        await core.ReceiveAsync("m1", "u1", LongQuestion);
        await core.RunTurnsAsync();
        await core.SendDueAsync();
        var first = Assert.Single(core.Channel.Sent).Message.Text;
        var pages = int.Parse(first[(first.LastIndexOf('/') + 1)..^1], System.Globalization.CultureInfo.InvariantCulture);
        Assert.EndsWith($"回复「继续」查看剩余 (2/{pages})", first, StringComparison.Ordinal);

        for (var page = 2; page <= pages; page++)
        {
            await core.ReceiveAsync("c" + page, "u1", "继续");
            await core.RunTurnsAsync();
            await core.SendDueAsync();
        }

        Assert.Single(model.Calls);
        var texts = core.Channel.Sent.Select(s => s.Message.Text).ToList();
        Assert.Equal(pages, texts.Count);
        Assert.DoesNotContain("继续", texts[^1], StringComparison.Ordinal);
        var delivered = string.Concat(texts.Select(t => t.Split("\n\n回复「继续」")[0]).SelectMany(t => t.Where(c => !char.IsWhiteSpace(c))));
        Assert.Equal("答：" + string.Concat(LongQuestion.Where(c => !char.IsWhiteSpace(c))), delivered);

        // Nothing left: "继续" is an ordinary message for the model again.
        await core.ReceiveAsync("after", "u1", "继续");
        await core.RunTurnsAsync();
        Assert.Equal(2, model.Calls.Count);
    }

    [Fact]
    public async Task NewQuestion_ReplacesWaitingPages()
    {
        var model = ScriptedChatClient.Echo();
        await using var core = await CoreHarness.CreateAsync(model, capabilities: OneMessagePerTrigger, settings: new Dictionary<string, string?> { ["Outbox:PacingInterval"] = "00:00:00" });
        await core.ReceiveAsync("m1", "u1", LongQuestion);
        await core.RunTurnsAsync();
        await core.ReceiveAsync("m2", "u1", "短问题");
        await core.RunTurnsAsync();
        await core.ReceiveAsync("m3", "u1", "继续");
        await core.RunTurnsAsync();

        Assert.Equal(3, model.Calls.Count);
    }

    [Fact]
    public async Task WaitingPages_AreKeptPerConversation()
    {
        var model = ScriptedChatClient.Echo();
        await using var core = await CoreHarness.CreateAsync(model, capabilities: OneMessagePerTrigger, settings: new Dictionary<string, string?> { ["Outbox:PacingInterval"] = "00:00:00" });
        await core.ReceiveAsync("m1", "u1", LongQuestion);
        await core.RunTurnsAsync();
        await core.ReceiveAsync("m2", "u2", "继续");
        await core.RunTurnsAsync();

        Assert.Equal(2, model.Calls.Count);
    }

    [Fact]
    public async Task WaitingPages_ExpireAfterTheirLifetime()
    {
        var model = ScriptedChatClient.Echo();
        await using var core = await CoreHarness.CreateAsync(model, capabilities: OneMessagePerTrigger, settings: new Dictionary<string, string?> { ["Composer:ContinuationLifetime"] = "01:00:00" });
        await core.ReceiveAsync("m1", "u1", LongQuestion);
        await core.RunTurnsAsync();
        core.Time.Advance(TimeSpan.FromHours(2));
        await core.ReceiveAsync("m2", "u1", "继续");
        await core.RunTurnsAsync();

        Assert.Equal(2, model.Calls.Count);
    }
}
