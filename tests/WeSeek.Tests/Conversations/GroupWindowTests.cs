using Microsoft.Extensions.AI;
using WeSeek.Messaging;
using WeSeek.TestKit;
using WeSeek.Tests.Inbox;
using WeSeek.Tests.Storage;

namespace WeSeek.Tests.Conversations;

/// <summary>A question asked in a group sees the group's recent messages as read-only, attributed context:
/// bounded by count, age and tokens, never another group's, never stored in history.</summary>
public sealed class GroupWindowTests
{
    private const string Heading = "群聊最近消息";

    [Fact]
    public async Task GroupQuestion_SeesItsGroupsRecentMessagesByUserId_NeverAnotherGroups_AndHistoryKeepsTheQuestionAlone()
    {
        var model = ScriptedChatClient.Echo();
        await using var core = await CoreHarness.CreateAsync(model);
        await ChatterAsync(core, "c1", "group-1", "alice", "明天下午三点开会");
        await ChatterAsync(core, "c2", "group-2", "carol", "另一个群的秘密");
        await ChatterAsync(core, "c3", "group-1", "bob", "地点在\n三楼");
        await core.ReceiveAsync("q1", "group-1", "会议几点？", isGroup: true, sender: "dan");
        await core.RunTurnsAsync();

        var prompt = LastUser(Assert.Single(model.Calls));
        Assert.Contains(Heading, prompt, StringComparison.Ordinal);
        Assert.Contains("[alice] 明天下午三点开会\n[bob] 地点在 三楼", prompt, StringComparison.Ordinal);
        Assert.DoesNotContain("秘密", prompt, StringComparison.Ordinal);
        Assert.EndsWith("会议几点？", prompt, StringComparison.Ordinal);

        // The next question: the first one is history now (as asked, without the block), not window.
        await core.ReceiveAsync("q2", "group-1", "在哪里？", isGroup: true, sender: "dan");
        await core.RunTurnsAsync();
        var second = model.Calls[1];
        Assert.Equal("会议几点？", second.First(m => m.Role == ChatRole.User).Text.Split("\n\n")[^1]);
        Assert.Single(second, m => m.Text.Contains(Heading, StringComparison.Ordinal));
        Assert.DoesNotContain("[dan]", LastUser(second), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Window_IsBoundedByCount_ByAge_AndErasesBodiesItCanNoLongerShow()
    {
        var model = ScriptedChatClient.Echo();
        await using var core = await CoreHarness.CreateAsync(model, new Dictionary<string, string?>
        {
            ["Context:GroupWindowMessages"] = "3",
            ["Context:GroupWindowMaxAge"] = "00:10:00",
        });
        await ChatterAsync(core, "old", "group-1", "erin", "很久以前的话");
        core.Time.Advance(TimeSpan.FromMinutes(11));
        for (var i = 1; i <= 5; i++)
        {
            await ChatterAsync(core, $"c{i}", "group-1", "alice", $"第{i}句");
        }

        await core.ReceiveAsync("q1", "group-1", "总结一下", isGroup: true, sender: "bob");
        await core.RunTurnsAsync();

        var prompt = LastUser(Assert.Single(model.Calls));
        Assert.Contains("[alice] 第3句\n[alice] 第4句\n[alice] 第5句\n", prompt, StringComparison.Ordinal);
        Assert.DoesNotContain("第2句", prompt, StringComparison.Ordinal);
        Assert.DoesNotContain("很久以前", prompt, StringComparison.Ordinal);
        // What no window can show any more (the answered question's window included) is erased; the rows stay
        // for duplicate detection.
        Assert.Equal(4, await DurableInboxTests.CountAsync(core, "SELECT COUNT(*) FROM inbox WHERE kind = 'Other' AND length(text) = 0"));
        Assert.Equal(7, (await core.TranscriptAsync()).Count(l => l.Inbound));
        Assert.Equal(AcceptOutcome.Duplicate, (await core.Sink.AcceptAsync(Chatter(core, "c1", "group-1", "alice", "第1句"), CancellationToken.None)).Outcome);
    }

    [Fact]
    public async Task Window_StaysInsideItsTokenBudget_DroppingTheOldestLines()
    {
        var model = ScriptedChatClient.Echo();
        await using var core = await CoreHarness.CreateAsync(model, new Dictionary<string, string?> { ["Context:GroupWindowMaxTokens"] = "64" });
        for (var i = 1; i <= 8; i++)
        {
            await ChatterAsync(core, $"c{i}", "group-1", "alice", $"第{i}条很长很长很长很长很长很长的消息");
        }

        await core.ReceiveAsync("q1", "group-1", "刚才说了什么", isGroup: true, sender: "bob");
        await core.RunTurnsAsync();

        var prompt = LastUser(Assert.Single(model.Calls));
        var start = prompt.IndexOf(Heading, StringComparison.Ordinal);
        var block = prompt[start..prompt.IndexOf("\n\n", start, StringComparison.Ordinal)];
        Assert.StartsWith(Heading, block, StringComparison.Ordinal);
        Assert.EndsWith("第8条很长很长很长很长很长很长的消息", block, StringComparison.Ordinal);
        Assert.DoesNotContain("第1条", block, StringComparison.Ordinal);
        Assert.True(new WeSeek.Conversations.EstimatingTokenCounter().Count(block) <= 64);
    }

    [Fact]
    public async Task PerMemberThreads_EachSeesTheOthersQuestionsInTheWindow_AndOnlyItsOwnInHistory()
    {
        var model = ScriptedChatClient.Echo();
        await using var core = await CoreHarness.CreateAsync(model, new Dictionary<string, string?> { ["Context:GroupScope"] = "PerMember" });
        await core.ReceiveAsync("a1", "group-1", "我是爱丽丝的问题", isGroup: true, sender: "alice");
        await core.RunTurnsAsync();
        await core.ReceiveAsync("b1", "group-1", "我是鲍勃的问题", isGroup: true, sender: "bob");
        await core.RunTurnsAsync();
        await core.ReceiveAsync("a2", "group-1", "我刚才问了什么", isGroup: true, sender: "alice");
        await core.RunTurnsAsync();

        var bob = model.Calls[1];
        Assert.Contains("[alice] 我是爱丽丝的问题", LastUser(bob), StringComparison.Ordinal);
        Assert.Single(bob, m => m.Role == ChatRole.User);
        var alice = model.Calls[2];
        // Alice's own first question is her thread's history (with its answer), not repeated in the window.
        Assert.Equal(3, alice.Count(m => m.Role != ChatRole.System));
        Assert.Equal("答：我是爱丽丝的问题", alice.Single(m => m.Role == ChatRole.Assistant).Text);
        Assert.Contains("[bob] 我是鲍勃的问题", LastUser(alice), StringComparison.Ordinal);
        Assert.DoesNotContain("[alice]", LastUser(alice), StringComparison.Ordinal);
    }

    [Fact]
    public async Task PrivateChat_HasNoGroupWindow()
    {
        var model = ScriptedChatClient.Echo();
        await using var core = await CoreHarness.CreateAsync(model);
        await ChatterAsync(core, "c1", "alice", "alice", "群外的话");
        await core.ReceiveAsync("q1", "alice", "你好");
        await core.RunTurnsAsync();

        Assert.DoesNotContain(Heading, LastUser(Assert.Single(model.Calls)), StringComparison.Ordinal);
    }

    private static InboundMessage Chatter(CoreHarness core, string id, string group, string sender, string text) =>
        core.Channel.Message(id, group, text, isGroup: true, sender) with { Kind = MessageKind.Other };

    private static async Task ChatterAsync(CoreHarness core, string id, string group, string sender, string text) =>
        await core.Sink.AcceptAsync(Chatter(core, id, group, sender, text), CancellationToken.None);

    private static string LastUser(IReadOnlyList<ChatMessage> prompt) => prompt.Last(m => m.Role == ChatRole.User).Text;
}
