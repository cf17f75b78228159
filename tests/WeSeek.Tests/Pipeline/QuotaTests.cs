using WeSeek.TestKit;

namespace WeSeek.Tests.Pipeline;

/// <summary>Per-user and per-group daily quotas: checked before the model, a notice once, a new day resets.</summary>
public sealed class QuotaTests
{
    [Fact]
    public async Task PerUserQuota_NoticeOnceThenSilence_OthersUnaffected_NextDayAgain()
    {
        var model = ScriptedChatClient.Echo();
        await using var core = await CoreHarness.CreateAsync(model, new Dictionary<string, string?> { ["Quota:PerUserDaily"] = "2", ["Outbox:PacingInterval"] = "00:00:00" });

        for (var i = 1; i <= 4; i++)
        {
            await core.ReceiveAsync($"a{i}", "alice", $"问题{i}");
        }

        await core.ReceiveAsync("b1", "bob", "我的问题");
        await core.RunTurnsAsync();
        await core.SendDueAsync();

        Assert.Equal(3, model.Calls.Count);
        Assert.Equal(["答：问题1", "答：问题2", "今天的提问次数已经用完了，明天再来吧。"], core.Channel.Sent.Where(s => s.Message.ChatId == "alice").Select(s => s.Message.Text));

        core.Time.Advance(TimeSpan.FromDays(1));
        await core.ReceiveAsync("a5", "alice", "新的一天");
        await core.RunTurnsAsync();
        Assert.Equal(4, model.Calls.Count);
    }

    [Fact]
    public async Task PerGroupQuota_CountsEveryMemberOfTheGroup()
    {
        var model = ScriptedChatClient.Echo();
        await using var core = await CoreHarness.CreateAsync(model, new Dictionary<string, string?> { ["Quota:PerGroupDaily"] = "2" });

        await core.ReceiveAsync("g1", "group-1", "一", isGroup: true, sender: "alice");
        await core.ReceiveAsync("g2", "group-1", "二", isGroup: true, sender: "bob");
        await core.ReceiveAsync("g3", "group-1", "三", isGroup: true, sender: "carol");
        await core.RunTurnsAsync();

        Assert.Equal(2, model.Calls.Count);
    }

    [Fact]
    public async Task PerMemberQuota_CountsOneMemberInOneGroup_NotTheirOtherGroupsOrPrivateChat()
    {
        var model = ScriptedChatClient.Echo();
        await using var core = await CoreHarness.CreateAsync(model, new Dictionary<string, string?> { ["Quota:PerMemberDaily"] = "2", ["Outbox:PacingInterval"] = "00:00:00" });

        await core.ReceiveAsync("g1", "group-1", "一", isGroup: true, sender: "alice");
        await core.ReceiveAsync("g2", "group-1", "二", isGroup: true, sender: "alice");
        await core.ReceiveAsync("g3", "group-1", "三", isGroup: true, sender: "alice");
        await core.ReceiveAsync("g4", "group-1", "四", isGroup: true, sender: "alice");
        await core.ReceiveAsync("g5", "group-1", "鲍勃问", isGroup: true, sender: "bob");
        await core.ReceiveAsync("h1", "group-2", "另一个群", isGroup: true, sender: "alice");
        await core.ReceiveAsync("p1", "alice", "私聊");
        await core.RunTurnsAsync();
        await core.SendDueAsync();

        Assert.Equal(5, model.Calls.Count);
        Assert.Equal(["答：一", "答：二", "今天的提问次数已经用完了，明天再来吧。", "答：鲍勃问"], core.Channel.Sent.Where(s => s.Message.ChatId == "group-1").Select(s => s.Message.Text));
        Assert.Equal(["答：另一个群"], core.Channel.Sent.Where(s => s.Message.ChatId == "group-2").Select(s => s.Message.Text));
    }
}
