using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using WeSeek.Conversations;
using WeSeek.TestKit;
using WeSeek.Tests.Storage;

namespace WeSeek.Tests.Conversations;

public sealed class ContextWindowTests
{
    private static readonly Dictionary<string, string?> SmallWindow = new()
    {
        ["Context:MaxTokens"] = "300",
        ["Context:CompactTo"] = "0.5",
        ["Context:Persona"] = "你是测试助手。",
    };

    [Fact]
    public async Task Context_PromptPrefix_StaysByteIdenticalAcrossTurnsUntilAnEpochBoundary()
    {
        var client = ScriptedChatClient.Echo();
        await using var harness = await CoreHarness.CreateAsync(client, SmallWindow);
        for (var i = 0; i < 12; i++)
        {
            await harness.ReceiveAsync($"m{i}", "alice", $"这是第{i}个问题，内容稍微长一点，好让窗口尽快填满。");
            await harness.RunTurnsAsync();
        }

        var prompts = client.Calls.Select(Render).ToList();
        var compactions = 0;
        for (var i = 1; i < prompts.Count; i++)
        {
            var previousWithAnswer = prompts[i - 1];
            if (prompts[i].StartsWith(previousWithAnswer, StringComparison.Ordinal))
            {
                continue;
            }

            // Not a prefix: must be an epoch boundary, where the oldest turns were dropped at once and the
            // persona moved to the new first turn.
            compactions++;
            Assert.True(client.Calls[i].Count < client.Calls[i - 1].Count + 2, $"Turn {i} changed its prefix without dropping turns.");
        }

        Assert.InRange(compactions, 1, 4);
        Assert.All(client.Calls, call => Assert.StartsWith("你是测试助手。", call[0].Text, StringComparison.Ordinal));
        Assert.All(client.Calls, call => Assert.DoesNotContain(call, m => m.Role == ChatRole.System));
        var conversation = (await harness.TranscriptAsync())[0].Conversation;
        Assert.True((await harness.Services.GetRequiredService<IConversationStore>().LoadAsync(conversation, CancellationToken.None)).Epoch >= 1);
    }

    [Fact]
    public async Task Context_EarlierAnswers_AreInHistoryWithoutReasoning()
    {
        var client = ScriptedChatClient.Echo();
        await using var harness = await CoreHarness.CreateAsync(client);
        await harness.ReceiveAsync("m1", "alice", "第一问");
        await harness.RunTurnsAsync();
        await harness.ReceiveAsync("m2", "alice", "第二问");
        await harness.RunTurnsAsync();

        var second = client.Calls[1];
        Assert.Equal([ChatRole.User, ChatRole.Assistant, ChatRole.User], second.Select(m => m.Role));
        Assert.Equal("答：第一问", second[1].Text);
        Assert.DoesNotContain(second, m => m.Text.Contains("想一想", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Context_PrivateChats_AreSeparate()
    {
        var client = ScriptedChatClient.Echo();
        await using var harness = await CoreHarness.CreateAsync(client);
        await harness.ReceiveAsync("m1", "alice", "alice 的秘密");
        await harness.RunTurnsAsync();
        await harness.ReceiveAsync("m2", "bob", "你好");
        await harness.RunTurnsAsync();

        Assert.Single(client.Calls[1]);
        Assert.DoesNotContain("秘密", client.Calls[1][0].Text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Shared", 3)]
    [InlineData("PerMember", 1)]
    public async Task Context_GroupScope_SharedOrPerMember(string scope, int messagesInThirdPrompt)
    {
        var client = ScriptedChatClient.Echo();
        await using var harness = await CoreHarness.CreateAsync(client, new Dictionary<string, string?> { ["Context:GroupScope"] = scope });
        await harness.ReceiveAsync("g1", "group-1", "我是甲", isGroup: true, sender: "甲");
        await harness.RunTurnsAsync();
        await harness.ReceiveAsync("g2", "group-1", "我是乙", isGroup: true, sender: "乙");
        await harness.RunTurnsAsync();

        Assert.Equal(messagesInThirdPrompt, client.Calls[1].Count);
    }

    [Fact]
    public async Task Context_SurvivesRestart()
    {
        using var data = new TempDirectory();
        await using (var first = await CoreHarness.CreateAsync(dataDirectory: data.Path))
        {
            await first.ReceiveAsync("m1", "alice", "记住：蓝色");
            await first.RunTurnsAsync();
        }

        var client = ScriptedChatClient.Echo();
        await using var second = await CoreHarness.CreateAsync(client, dataDirectory: data.Path);
        await second.ReceiveAsync("m2", "alice", "我说了什么颜色？");
        await second.RunTurnsAsync();

        Assert.Contains("蓝色", client.Calls[0][0].Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Context_CurrentTime_GoesIntoTheNewMessageNotThePersona()
    {
        var client = ScriptedChatClient.Echo();
        await using var harness = await CoreHarness.CreateAsync(client, new Dictionary<string, string?>
        {
            ["Context:IncludeCurrentTime"] = "true",
            ["Model:PersonaPlacement"] = "System",
        });
        await harness.ReceiveAsync("m1", "alice", "现在几点？");
        await harness.RunTurnsAsync();

        var prompt = client.Calls[0];
        Assert.Equal(ChatRole.System, prompt[0].Role);
        Assert.DoesNotContain("当前时间", prompt[0].Text, StringComparison.Ordinal);
        Assert.Contains("当前时间：2026-11-28 10:00 星期六", prompt[^1].Text, StringComparison.Ordinal);
    }

    /// <summary>The prompt as text, plus the answer the model gave, as the next turn's history will hold it.</summary>
    private static string Render(IReadOnlyList<ChatMessage> prompt) =>
        string.Concat(prompt.Select(m => $"<|{m.Role}|>{m.Text}"));
}
