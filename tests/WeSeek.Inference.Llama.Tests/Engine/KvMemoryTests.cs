using Microsoft.Extensions.AI;
using WeSeek.Inference.Llama.Engine;

namespace WeSeek.Inference.Llama.Tests.Engine;

/// <summary>
/// The KV memory manager on real llama.cpp with the tiny model: more demand than cells never fails a turn (it
/// waits, or is preempted and resumes), a preempted answer goes on exactly where it stopped, and anonymous
/// requests find the cache sharing their prefix.
/// </summary>
public sealed class KvMemoryTests
{
    private static string Question(int i) => $"第{i}个用户：请详细介绍一下你自己，以及你能做什么。" + string.Concat(Enumerable.Repeat($"补充{i}。", 6));

    [Fact]
    public async Task MoreDemandThanCells_EveryTurnIsAnsweredInFull_SomeByPreemption()
    {
        // 6 conversations of about 90 prompt tokens and 160 answer tokens need about 1,500 cells; there are 768.
        var host = LlamaChatClientTests.CreateHost(new LlamaEngineOptions { ModelPath = TinyModel.File, ContextSize = 768, MaxSequences = 4, MaxKeptConversations = 4, MaxQueue = 16 });
        await using (host)
        {
            using var client = new LlamaChatClient(host);
            var options = Enumerable.Range(0, 6).Select(i => new ChatOptions { ConversationId = $"user-{i}", MaxOutputTokens = 160, Temperature = 0f, Seed = i, StopSequences = [] }).ToArray();

            var responses = await Task.WhenAll(Enumerable.Range(0, 6).Select(i =>
                client.GetResponseAsync([new ChatMessage(ChatRole.User, Question(i))], options[i], TestContext.Current.CancellationToken)));

            var engine = await host.GetEngineAsync(TestContext.Current.CancellationToken);
            Assert.All(responses, r => Assert.True(r.FinishReason == ChatFinishReason.Length || r.FinishReason == ChatFinishReason.Stop));
            Assert.All(responses, r => Assert.True(r.Usage?.OutputTokenCount > 0));
            Assert.True(engine.PreemptionCount > 0, "The load was meant to need preemption; none happened.");
            Assert.InRange(engine.Cells.Used, 0, engine.Cells.Total);
        }
    }

    [Fact]
    public async Task PreemptedAnswer_GoesOnExactlyWhereItStopped()
    {
        var greedy = new ChatOptions { MaxOutputTokens = 200, Temperature = 0f, Seed = 11 };
        string alone;
        var quiet = LlamaChatClientTests.CreateHost(new LlamaEngineOptions { ModelPath = TinyModel.File, ContextSize = 4096, MaxSequences = 1, MaxKeptConversations = 0 });
        await using (quiet)
        {
            using var client = new LlamaChatClient(quiet);
            alone = (await client.GetResponseAsync([new ChatMessage(ChatRole.User, Question(1))], greedy, TestContext.Current.CancellationToken)).Text;
        }

        // Three at once in 512 cells: the youngest is preempted at least once and resumes from its parked cache.
        var tight = LlamaChatClientTests.CreateHost(new LlamaEngineOptions { ModelPath = TinyModel.File, ContextSize = 512, MaxSequences = 3, MaxKeptConversations = 0 });
        await using (tight)
        {
            using var client = new LlamaChatClient(tight);
            var others = Enumerable.Range(2, 2).Select(i => client.GetResponseAsync([new ChatMessage(ChatRole.User, Question(i))], new ChatOptions { MaxOutputTokens = 200, Seed = i }, TestContext.Current.CancellationToken)).ToList();
            var contended = await client.GetResponseAsync([new ChatMessage(ChatRole.User, Question(1))], greedy, TestContext.Current.CancellationToken);
            await Task.WhenAll(others);

            var engine = await tight.GetEngineAsync(TestContext.Current.CancellationToken);
            Assert.True(engine.PreemptionCount > 0, "Three answers of 200 tokens in 512 cells were meant to preempt.");
            Assert.Equal(alone, contended.Text);
        }
    }

    [Fact]
    public async Task AnonymousRequest_ReusesTheKeptCacheSharingItsPrefix()
    {
        var host = LlamaChatClientTests.CreateHost(new LlamaEngineOptions { ModelPath = TinyModel.File, ContextSize = 4096, MaxSequences = 2, MaxKeptConversations = 4 });
        await using (host)
        {
            using var client = new LlamaChatClient(host);
            List<ChatMessage> history = [new(ChatRole.System, "你是一个乐于助人的助手。" + string.Concat(Enumerable.Repeat("请简洁。", 10))), new(ChatRole.User, "你好")];
            var first = await client.GetResponseAsync(history, new ChatOptions { MaxOutputTokens = 8, Seed = 1 }, TestContext.Current.CancellationToken);
            history.Add(new ChatMessage(ChatRole.Assistant, first.Text));
            history.Add(new ChatMessage(ChatRole.User, "再说一遍"));

            var second = await client.GetResponseAsync(history, new ChatOptions { MaxOutputTokens = 8, Seed = 1 }, TestContext.Current.CancellationToken);

            Assert.Equal(0, first.Usage?.CachedInputTokenCount);
            Assert.True(second.Usage?.CachedInputTokenCount > 20, $"cached {second.Usage?.CachedInputTokenCount}");
        }
    }

    [Fact]
    public async Task WaitingMessage_IsNeverFailedForCells_WhenTheConversationsAheadHoldThemAll()
    {
        // One sequence's worth of cells: the second message waits for the first to finish, then is answered.
        var host = LlamaChatClientTests.CreateHost(new LlamaEngineOptions { ModelPath = TinyModel.File, ContextSize = 320, MaxSequences = 2, MaxKeptConversations = 2 });
        await using (host)
        {
            using var client = new LlamaChatClient(host);
            var both = await Task.WhenAll(Enumerable.Range(0, 2).Select(i =>
                client.GetResponseAsync([new ChatMessage(ChatRole.User, Question(i))], new ChatOptions { ConversationId = $"c{i}", MaxOutputTokens = 150, Seed = i }, TestContext.Current.CancellationToken)));

            Assert.All(both, r => Assert.True(r.Usage?.OutputTokenCount > 0));
        }
    }

    [Fact]
    public async Task NewConversation_SharesOnlyTheSystemPromptOfAnother_AndAnswersAsIfItHadPrefilledIt()
    {
        var system = new ChatMessage(ChatRole.System, "你是微信里的智能助手，回答要准确、简洁、有礼貌。" + string.Concat(Enumerable.Repeat("请注意隐私。", 8)));
        var greedy = new ChatOptions { MaxOutputTokens = 12, Temperature = 0f, Seed = 4 };
        string unshared;
        var alone = LlamaChatClientTests.CreateHost(new LlamaEngineOptions { ModelPath = TinyModel.File, ContextSize = 4096, MaxSequences = 2, MaxKeptConversations = 4 });
        await using (alone)
        {
            using var client = new LlamaChatClient(alone);
            unshared = (await client.GetResponseAsync([system, new ChatMessage(ChatRole.User, "请问李四的问题")], greedy.Clone(), TestContext.Current.CancellationToken)).Text;
        }

        var host = LlamaChatClientTests.CreateHost(new LlamaEngineOptions { ModelPath = TinyModel.File, ContextSize = 4096, MaxSequences = 2, MaxKeptConversations = 4, PrefillAnswers = false });
        await using (host)
        {
            using var client = new LlamaChatClient(host);
            var engine = await host.GetEngineAsync(TestContext.Current.CancellationToken);
            var zhang = greedy.Clone();
            zhang.ConversationId = "zhang";
            await client.GetResponseAsync([system, new ChatMessage(ChatRole.User, "请问张三的秘密问题")], zhang, TestContext.Current.CancellationToken);
            var li = greedy.Clone();
            li.ConversationId = "li";

            var second = await client.GetResponseAsync([system, new ChatMessage(ChatRole.User, "请问李四的问题")], li, TestContext.Current.CancellationToken);

            // Exactly the tokens up to the first user's text (BOS, the system prompt and the user marker) came from
            // zhang's cache: nothing zhang wrote, though both questions begin with the same words.
            var prompt = R1PromptBuilder.Tokenize(engine.Context, engine.Prompts.Render([system, new ChatMessage(ChatRole.User, "x")]));
            var user = engine.Context.Tokenize(R1PromptBuilder.UserMarker, addBos: false, special: true).Single();
            Assert.Equal(Array.IndexOf(prompt, user) + 1, second.Usage?.CachedInputTokenCount);
            Assert.Equal(unshared, second.Text);
        }
    }
}
