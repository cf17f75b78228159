using Microsoft.Extensions.AI;
using WeSeek.Inference.Llama.Engine;

namespace WeSeek.Inference.Llama.Tests.Engine;

/// <summary><c>Model:Llama:KvLayout=per-sequence</c> (llama.cpp's non-unified cache) on real llama.cpp: the same
/// answers as the unified pool, with caches kept, parked and restored across sequences.</summary>
public sealed class KvLayoutTests
{
    private const string Persona = "你是一个乐于助人的微信助手，回答简短、准确、有礼貌，不编造事实，也不透露其他用户的任何信息。";

    private static async Task<List<(string Text, long Cached)>> ConverseAsync(string layout)
    {
        // Six chats of three turns over two generating sequences and one kept: caches are kept, parked in memory
        // and restored (the unified pool also forks every chat's system prompt from another's).
        var host = LlamaChatClientTests.CreateHost(new LlamaEngineOptions
        {
            ModelPath = TinyModel.File, ContextSize = 3 * 1024, MaxSequences = 2, MaxKeptConversations = 1, KvLayout = layout,
        });
        await using (host)
        {
            await host.StartAsync(TestContext.Current.CancellationToken);
            using var client = new LlamaChatClient(host);
            var histories = Enumerable.Range(0, 6).Select(_ => new List<ChatMessage> { new(ChatRole.System, Persona) }).ToList();
            var results = new List<(string, long)>();
            for (var turn = 0; turn < 3; turn++)
            {
                for (var chat = 0; chat < histories.Count; chat++)
                {
                    var history = histories[chat];
                    history.Add(new ChatMessage(ChatRole.User, $"第{chat}位用户的第{turn}个问题"));
                    var answer = await client.GetResponseAsync(history, new ChatOptions { ConversationId = $"chat-{chat}", MaxOutputTokens = 12, Temperature = 0f }, TestContext.Current.CancellationToken);
                    history.Add(new ChatMessage(ChatRole.Assistant, answer.Text));
                    results.Add((answer.Text, answer.Usage?.CachedInputTokenCount ?? 0));
                }
            }

            return results;
        }
    }

    [Fact]
    public async Task PerSequence_AnswersAsTheUnifiedPoolDoes_AndReusesCaches()
    {
        var unified = await ConverseAsync("unified");
        var perSequence = await ConverseAsync("per-sequence");

        Assert.Equal(unified.Select(r => r.Text), perSequence.Select(r => r.Text));
        // A new chat starts from another's system prompt: forked in the unified pool, the idle sequence taken over
        // (its cache parked) in the per-sequence layout; the same tokens, the system prompt and nothing more.
        Assert.All(perSequence.Skip(1).Take(5), r => Assert.True(r.Cached > 0));
        Assert.Equal(unified.Take(6).Select(r => r.Cached), perSequence.Take(6).Select(r => r.Cached));
        // Later turns continue their kept or restored caches (a taken-over chat's from where it was parked).
        Assert.All(perSequence.Skip(6), r => Assert.True(r.Cached > 0));
        Assert.All(unified.Skip(6), r => Assert.True(r.Cached > 0));
    }

    [Fact]
    public async Task PerSequence_APromptLargerThanOneShare_IsRefusedWithTheSettingsToChange()
    {
        var host = LlamaChatClientTests.CreateHost(new LlamaEngineOptions { ModelPath = TinyModel.File, ContextSize = 1024, MaxSequences = 3, MaxKeptConversations = 1, KvLayout = "per-sequence" });
        await using (host)
        {
            await host.StartAsync(TestContext.Current.CancellationToken);
            using var client = new LlamaChatClient(host);
            var question = string.Concat(Enumerable.Repeat("这是一个很长的问题。", 80));

            var refused = await Assert.ThrowsAsync<LlamaEngineException>(() => client.GetResponseAsync([new ChatMessage(ChatRole.User, question)], new ChatOptions { MaxOutputTokens = 8 }, TestContext.Current.CancellationToken));

            Assert.Contains("Model:Llama:KvLayout=per-sequence", refused.Message, StringComparison.Ordinal);
            Assert.Contains("256", refused.Message, StringComparison.Ordinal);
        }
    }
}
