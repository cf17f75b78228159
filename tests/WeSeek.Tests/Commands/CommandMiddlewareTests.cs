using WeSeek.Commands;
using WeSeek.TestKit;
using WeSeek.Tests.Inbox;

namespace WeSeek.Tests.Commands;

public sealed class CommandMiddlewareTests
{
    [Theory]
    [InlineData("/help", "help", "")]
    [InlineData("  /HELP ", "help", "")]
    [InlineData("帮助", "help", "")]
    [InlineData("/reset", "reset", "")]
    [InlineData("重置", "reset", "")]
    [InlineData("／reset", "reset", "")]
    [InlineData("/think on", "think", "on")]
    [InlineData("/think   OFF", "think", "off")]
    [InlineData("显示思考", "think", "on")]
    public void Parse_KnownCommands_Recognised(string text, string name, string argument) =>
        Assert.Equal((name, argument), CommandMiddleware.Parse(text));

    [Theory]
    [InlineData("help me")]
    [InlineData("/unknown")]
    [InlineData("/")]
    [InlineData("请帮助我")]
    public void Parse_OtherText_IsNotACommand(string text) => Assert.Null(CommandMiddleware.Parse(text));

    [Fact]
    public async Task Help_AnsweredWithoutTheModel()
    {
        var client = ScriptedChatClient.Echo();
        await using var harness = await CoreHarness.CreateAsync(client);
        await harness.ReceiveAsync("m1", "alice", "帮助");
        await harness.RunTurnsAsync();

        Assert.Empty(client.Calls);
        Assert.Contains("/reset", Assert.Single(await DurableInboxTests.OutboxTextsAsync(harness)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reset_ForgetsEarlierTurns()
    {
        var client = ScriptedChatClient.Echo();
        await using var harness = await CoreHarness.CreateAsync(client);
        await harness.ReceiveAsync("m1", "alice", "我叫小明");
        await harness.RunTurnsAsync();
        await harness.ReceiveAsync("m2", "alice", "/reset");
        await harness.RunTurnsAsync();
        await harness.ReceiveAsync("m3", "alice", "我叫什么？");
        await harness.RunTurnsAsync();

        Assert.Equal(2, client.Calls.Count);
        Assert.Single(client.Calls[1]);
        Assert.DoesNotContain("小明", client.Calls[1][0].Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ThinkOn_ReasoningSentBeforeTheAnswer()
    {
        await using var harness = await CoreHarness.CreateAsync();
        await harness.ReceiveAsync("m1", "alice", "/think on");
        await harness.RunTurnsAsync();
        await harness.ReceiveAsync("m2", "alice", "你好");
        await harness.RunTurnsAsync();

        var replies = string.Join('|', await DurableInboxTests.OutboxTextsAsync(harness, "inbox_id = (SELECT id FROM inbox WHERE external_id = 'm2')"));
        Assert.Equal("💭 思考过程：\n想一想：用户说了「你好」|答：你好", replies);
    }
}
