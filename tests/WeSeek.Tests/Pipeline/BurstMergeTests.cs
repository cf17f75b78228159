using Microsoft.Extensions.AI;
using Microsoft.Extensions.Time.Testing;
using WeSeek.Messaging;
using WeSeek.TestKit;
using WeSeek.Tests.Storage;

namespace WeSeek.Tests.Pipeline;

/// <summary>A member's messages in a group within the burst window become one turn: each stored on arrival,
/// merged when the turn is leased, all done together.</summary>
public sealed class BurstMergeTests
{
    private static readonly Dictionary<string, string?> Burst = new() { ["Dispatcher:GroupBurstWindow"] = "00:00:01.500", ["Outbox:PacingInterval"] = "00:00:00" };

    [Fact]
    public async Task OneMembersMessagesWithinTheWindow_AreOneTurn_InOrder_OthersAndLaterOnesAreNot()
    {
        var model = ScriptedChatClient.Echo();
        await using var core = await CoreHarness.CreateAsync(model, Burst);
        await core.ReceiveAsync("a1", "group-1", "帮我看看", isGroup: true, sender: "alice");
        core.Time.Advance(TimeSpan.FromMilliseconds(500));
        await core.Sink.AcceptAsync(Other(core, "a2", "alice", "这段代码"), CancellationToken.None);
        core.Time.Advance(TimeSpan.FromMilliseconds(300));
        await core.Sink.AcceptAsync(Other(core, "b1", "bob", "我也想知道"), CancellationToken.None);
        core.Time.Advance(TimeSpan.FromMilliseconds(400));
        await core.ReceiveAsync("a3", "group-1", "为什么报错", isGroup: true, sender: "alice");

        // Inside the window nothing runs: alice may still be typing.
        await core.RunTurnsAsync();
        Assert.Empty(model.Calls);

        core.Time.Advance(TimeSpan.FromMilliseconds(500));
        await core.ReceiveAsync("a4", "group-1", "另一个问题", isGroup: true, sender: "alice");
        await core.RunTurnsAsync();
        var first = Assert.Single(model.Calls);
        Assert.EndsWith("帮我看看\n这段代码\n为什么报错", first.Last(m => m.Role == ChatRole.User).Text, StringComparison.Ordinal);
        Assert.DoesNotContain("我也想知道\n", first.Last(m => m.Role == ChatRole.User).Text, StringComparison.Ordinal);

        core.Time.Advance(TimeSpan.FromSeconds(2));
        await core.RunTurnsAsync();
        Assert.Equal(2, model.Calls.Count);
        Assert.EndsWith("\n\n另一个问题", model.Calls[1].Last(m => m.Role == ChatRole.User).Text, StringComparison.Ordinal);
        await core.SendDueAsync();
        Assert.Equal(["答：帮我看看\n这段代码\n为什么报错", "答：另一个问题"], core.Channel.Sent.Select(s => s.Message.Text));
        Assert.DoesNotContain(await core.TranscriptAsync(), l => l.Inbound && l.State == "pending");
    }

    [Fact]
    public async Task ABurstStoredBeforeARestart_IsMergedAfterIt()
    {
        using var data = new TempDirectory();
        var time = new FakeTimeProvider(CoreHarness.Start);
        await using (var before = await CoreHarness.CreateAsync(settings: Burst, dataDirectory: data.Path, time: time))
        {
            await before.ReceiveAsync("a1", "group-1", "第一句", isGroup: true, sender: "alice");
            time.Advance(TimeSpan.FromMilliseconds(700));
            await before.ReceiveAsync("a2", "group-1", "第二句", isGroup: true, sender: "alice");
            await before.RunTurnsAsync();
        }

        var model = ScriptedChatClient.Echo();
        await using var after = await CoreHarness.CreateAsync(model, Burst, dataDirectory: data.Path, time: time);
        time.Advance(TimeSpan.FromSeconds(1));
        await after.RunTurnsAsync();

        var call = Assert.Single(model.Calls);
        Assert.EndsWith("第一句\n第二句", call.Last(m => m.Role == ChatRole.User).Text, StringComparison.Ordinal);
        Assert.Equal(2, (await after.TranscriptAsync()).Count(l => l.Inbound && l.State == "done"));
    }

    [Fact]
    public async Task PrivateChats_AreNeverHeldBack()
    {
        var model = ScriptedChatClient.Echo();
        await using var core = await CoreHarness.CreateAsync(model, Burst);
        await core.ReceiveAsync("p1", "alice", "第一句");
        await core.ReceiveAsync("p2", "alice", "第二句");

        await core.RunTurnsAsync();

        Assert.Equal(2, model.Calls.Count);
    }

    private static InboundMessage Other(CoreHarness core, string id, string sender, string text) =>
        core.Channel.Message(id, "group-1", text, isGroup: true, sender) with { Kind = MessageKind.Other };
}
