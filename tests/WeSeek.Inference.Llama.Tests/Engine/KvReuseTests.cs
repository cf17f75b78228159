using Microsoft.Extensions.AI;
using WeSeek.Inference.Llama.Engine;

namespace WeSeek.Inference.Llama.Tests.Engine;

/// <summary>Per-conversation KV cache reuse on real llama.cpp with the synthesised tiny model.</summary>
public sealed class KvReuseTests : IAsyncLifetime
{
    private LlamaEngineHost _host = null!;
    private LlamaChatClient _client = null!;

    public async ValueTask InitializeAsync()
    {
        // Parking off here: dropping a kept cache forgets it (parking is tested on its own below).
        _host = LlamaChatClientTests.CreateHost(new LlamaEngineOptions { ModelPath = TinyModel.File, ContextSize = 8192, MaxSequences = 4, MaxKeptConversations = 8, MaxParkedInMemory = 0 });
        await _host.StartAsync(TestContext.Current.CancellationToken);
        _client = new LlamaChatClient(_host);
    }

    public async ValueTask DisposeAsync() => await _host.DisposeAsync();

    private async Task<(string Text, int Cached, int Prompt)> TurnAsync(string? conversationId, List<ChatMessage> history)
    {
        var response = await _client.GetResponseAsync(history, new ChatOptions { ConversationId = conversationId, MaxOutputTokens = 12, Seed = 5 }, TestContext.Current.CancellationToken);
        return (response.Text, (int)(response.Usage?.CachedInputTokenCount ?? -1), (int)(response.Usage?.InputTokenCount ?? -1));
    }

    private async Task<int> PromptLengthAsync(List<ChatMessage> history)
    {
        var engine = await _host.GetEngineAsync(TestContext.Current.CancellationToken);
        return R1PromptBuilder.Tokenize(engine.Context, engine.Prompts.Render(history)).Length;
    }

    [Fact]
    public async Task SecondTurn_ReusesItsCache_AndPrefillsOnlyTheNewPart()
    {
        List<ChatMessage> history = [new(ChatRole.User, "第一个问题，请详细回答。")];
        var first = await TurnAsync("conv-a", history);
        Assert.Equal(0, first.Cached);

        history.Add(new ChatMessage(ChatRole.Assistant, first.Text));
        history.Add(new ChatMessage(ChatRole.User, "第二个问题"));
        var second = await TurnAsync("conv-a", history);

        // Everything up to the first answer's opening <think> was kept: the prompt of turn 1 less "<think>\n".
        var firstPrompt = await PromptLengthAsync([new(ChatRole.User, "第一个问题，请详细回答。")]);
        Assert.InRange(second.Cached, firstPrompt - 3, second.Prompt - 1);
    }

    [Fact]
    public async Task OtherConversation_WithTheSamePrefix_NeverUsesThatCache()
    {
        List<ChatMessage> history = [new(ChatRole.User, "同样的开头")];
        var first = await TurnAsync("conv-owner", history);
        history.Add(new ChatMessage(ChatRole.Assistant, first.Text));
        history.Add(new ChatMessage(ChatRole.User, "继续"));

        var stranger = await TurnAsync("conv-stranger", history);
        var anonymous = await TurnAsync(null, history);
        var owner = await TurnAsync("conv-owner", history);

        Assert.Equal(0, stranger.Cached);
        Assert.Equal(0, anonymous.Cached);
        Assert.True(owner.Cached > 0);
    }

    [Fact]
    public async Task InterleavedConversations_EachReusesOnlyItsOwnHistory()
    {
        var random = new Random(27148);
        var histories = Enumerable.Range(0, 6).ToDictionary(i => $"conv-{i}", i => new List<ChatMessage> { new(ChatRole.User, $"我是第{i}位用户，我的暗号是{i * 7919}。") });
        var turns = histories.Keys.SelectMany(k => Enumerable.Repeat(k, 3)).OrderBy(_ => random.Next()).ToList();
        var seen = new HashSet<string>();
        foreach (var id in turns)
        {
            var history = histories[id];
            var ownPrefix = history.Count == 1 ? 0 : await PromptLengthAsync(history.Take(history.Count - 2).ToList()) - 3;
            var result = await TurnAsync(id, history);
            if (seen.Add(id))
            {
                Assert.Equal(0, result.Cached);
            }
            else
            {
                // At least its own previous turn's prompt, never more than this prompt: another conversation's
                // cache would match only the shared start (BOS, "<｜User｜>我是第"), far less.
                Assert.InRange(result.Cached, ownPrefix, result.Prompt - 1);
            }

            history.Add(new ChatMessage(ChatRole.Assistant, result.Text));
            history.Add(new ChatMessage(ChatRole.User, $"第{history.Count}句"));
        }
    }

    [Fact]
    public async Task KeptCaches_BeyondTheLimit_DropTheLeastRecentlyUsed()
    {
        // 8 kept at most: conversation 0, the least recently used, loses its cache when a 9th finishes.
        for (var i = 0; i < 9; i++)
        {
            await TurnAsync($"lru-{i}", [new(ChatRole.User, $"用户{i}")]);
        }

        var first = await TurnAsync("lru-0", [new(ChatRole.User, "用户0"), new(ChatRole.Assistant, "好"), new(ChatRole.User, "再问")]);
        var last = await TurnAsync("lru-8", [new(ChatRole.User, "用户8"), new(ChatRole.Assistant, "好"), new(ChatRole.User, "再问")]);

        Assert.Equal(0, first.Cached);
        Assert.True(last.Cached > 0);
    }
}

/// <summary>Parking: a dropped KV cache is saved and restored on the conversation's next message.</summary>
public sealed class KvParkingTests
{
    private static async Task<(string Text, int Cached)> RunAsync(bool forceParking)
    {
        var host = LlamaChatClientTests.CreateHost(new LlamaEngineOptions
        {
            ModelPath = TinyModel.File,
            ContextSize = 8192,
            MaxSequences = 2,
            MaxKeptConversations = 2,
            MaxParkedInMemory = 8,
        });
        await using (host)
        {
            await host.StartAsync(TestContext.Current.CancellationToken);
            using var client = new LlamaChatClient(host);
            var greedy = new ChatOptions { ConversationId = "owner", MaxOutputTokens = 10, Temperature = 0f, Seed = 1 };
            List<ChatMessage> history = [new(ChatRole.User, "请记住这段对话的开头，它相当长，足够测出缓存的作用。")];
            var first = await client.GetResponseAsync(history, greedy, TestContext.Current.CancellationToken);
            if (forceParking)
            {
                // Three other conversations push "owner" out of the two kept sequences into memory.
                foreach (var other in new[] { "x", "y", "z" })
                {
                    await client.GetResponseAsync([new(ChatRole.User, other)], new ChatOptions { ConversationId = other, MaxOutputTokens = 2 }, TestContext.Current.CancellationToken);
                }

                var engine = await host.GetEngineAsync(TestContext.Current.CancellationToken);
                Assert.True(engine.ParkingCounts.Parked >= 1);
            }

            history.Add(new ChatMessage(ChatRole.Assistant, first.Text));
            history.Add(new ChatMessage(ChatRole.User, "继续"));
            var second = await client.GetResponseAsync(history, greedy, TestContext.Current.CancellationToken);
            return (second.Text, (int)(second.Usage?.CachedInputTokenCount ?? 0));
        }
    }

    [Fact]
    public async Task ParkedInMemory_RestoresAndContinuesExactlyAsIfKept()
    {
        var kept = await RunAsync(forceParking: false);
        var parked = await RunAsync(forceParking: true);

        Assert.True(parked.Cached > 0);
        Assert.Equal(kept.Cached, parked.Cached);
        Assert.Equal(kept.Text, parked.Text);
    }
}
