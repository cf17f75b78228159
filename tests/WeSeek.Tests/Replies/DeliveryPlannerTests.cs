using System.Text;
using WeSeek.Messaging;
using WeSeek.Replies;

namespace WeSeek.Tests.Replies;

/// <summary>Answers laid out within a surface's budget: bytes per message, messages per trigger, pages.</summary>
public sealed class DeliveryPlannerTests
{
    private static readonly ChannelCapabilities WeChat = new() { MaxTextLength = 600, MaxTextBytes = 2048, MaxMessagesPerTrigger = 5 };

    [Fact]
    public void Plan_ShortAnswer_OnePageNoNote()
    {
        var plan = DeliveryPlanner.Plan("**你好**，有什么可以帮你？", [], WeChat, perTrigger: 5, maxPages: 10);

        Assert.Equal(["你好，有什么可以帮你？"], Assert.Single(plan.Pages));
        Assert.False(plan.Truncated);
    }

    [Fact]
    public void Plan_MarkdownChannel_LeftAsIs()
    {
        var plan = DeliveryPlanner.Plan("**你好**", [], WeChat with { Markdown = true }, 5, 10);
        Assert.Equal(["**你好**"], Assert.Single(plan.Pages));
    }

    [Fact]
    public void Plan_LongAnswer_PagesWithContinueNotesAndEveryMessageWithinBudget()
    {
        var capabilities = new ChannelCapabilities { MaxTextLength = 600, MaxTextBytes = 300, MaxMessagesPerTrigger = 2 };
        var answer = string.Join("\n\n", Enumerable.Range(1, 12).Select(i => $"第{i}段：" + string.Concat(Enumerable.Repeat("这是一句用来测试分页的话。", 6))));
        var plan = DeliveryPlanner.Plan(answer, ["💭 思考过程：想一想"], capabilities, perTrigger: 2, maxPages: 20);

        Assert.True(plan.Pages.Count >= 3);
        Assert.Equal("💭 思考过程：想一想", plan.Pages[0][0]);
        Assert.All(plan.Pages, page => Assert.InRange(page.Count, 1, 2));
        Assert.All(plan.Pages.SelectMany(p => p), m => Assert.InRange(Encoding.UTF8.GetByteCount(m), 1, 300));
        for (var i = 0; i < plan.Pages.Count - 1; i++)
        {
            Assert.EndsWith($"回复「继续」查看剩余 ({i + 2}/{plan.Pages.Count})", plan.Pages[i][^1], StringComparison.Ordinal);
        }

        Assert.DoesNotContain("继续", plan.Pages[^1][^1], StringComparison.Ordinal);
        // Nothing lost: every paragraph's text arrives, in order.
        var delivered = string.Concat(plan.Pages.Skip(0).SelectMany(p => p).Select(m => m.Split("\n\n回复「继续」")[0]));
        Assert.Equal(Normalise(answer), Normalise(delivered).Replace("💭思考过程：想一想", "", StringComparison.Ordinal));
    }

    [Fact]
    public void Plan_LongerThanMostPages_CutWithMark()
    {
        var capabilities = new ChannelCapabilities { MaxTextLength = 20, MaxTextBytes = 0, MaxMessagesPerTrigger = 1 };
        var answer = string.Join("\n\n", Enumerable.Range(1, 30).Select(i => $"第{i}段内容。"));
        var plan = DeliveryPlanner.Plan(answer, [], capabilities with { MaxTextLength = 80 }, perTrigger: 1, maxPages: 3);

        Assert.Equal(3, plan.Pages.Count);
        Assert.True(plan.Truncated);
        Assert.EndsWith(ComposerMiddleware.TruncationMark, plan.Pages[^1][^1], StringComparison.Ordinal);
        Assert.EndsWith("(3/3)", plan.Pages[1][^1], StringComparison.Ordinal);
    }

    [Fact]
    public void Plan_CodeBlockFitsAMessage_NeverSplitInside()
    {
        var code = string.Join('\n', Enumerable.Range(1, 8).Select(i => $"line {i}: value = {i * 7};"));
        var answer = "说明文字。" + string.Concat(Enumerable.Repeat("这里是一些解释。", 10)) + "\n\n```\n" + code + "\n```\n\n之后的文字。";
        var plan = DeliveryPlanner.Plan(answer, [], new ChannelCapabilities { MaxTextLength = 300, MaxTextBytes = 0 }, 5, 10);

        Assert.Contains(plan.Pages[0], m => m.Contains(code, StringComparison.Ordinal));
    }

    [Fact]
    public void Plan_RandomAnswers_NeverExceedLimitsAndLoseNoText()
    {
        var random = new Random(20261128);
        string[] pieces = ["你好", "。", "！", "\n\n", "\n", " ", "word", "😀", "**粗体**", "- 列表项\n", "汉字汉字汉字", "，"];
        for (var round = 0; round < 200; round++)
        {
            var answer = string.Concat(Enumerable.Range(0, random.Next(1, 400)).Select(_ => pieces[random.Next(pieces.Length)]));
            if (answer.Trim().Length == 0)
            {
                continue;
            }

            var capabilities = new ChannelCapabilities { MaxTextLength = random.Next(60, 300), MaxTextBytes = random.Next(0, 2) == 0 ? 0 : random.Next(120, 600), MaxMessagesPerTrigger = random.Next(1, 4), Markdown = true };
            var plan = DeliveryPlanner.Plan(answer, [], capabilities, capabilities.MaxMessagesPerTrigger, maxPages: 100);
            foreach (var message in plan.Pages.SelectMany(p => p))
            {
                Assert.InRange(message.Length, 1, capabilities.MaxTextLength);
                if (capabilities.MaxTextBytes > 0)
                {
                    Assert.InRange(Encoding.UTF8.GetByteCount(message), 1, capabilities.MaxTextBytes);
                }

                Assert.False(char.IsLowSurrogate(message[0]) || char.IsHighSurrogate(message[^1]));
            }

            var delivered = string.Concat(plan.Pages.SelectMany(p => p).Select(m => m.Split("\n\n回复「继续」")[0]));
            Assert.Equal(Normalise(answer), Normalise(delivered));
        }
    }

    private static string Normalise(string text) => string.Concat(text.Where(c => !char.IsWhiteSpace(c)));
}
