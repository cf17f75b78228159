using Microsoft.Extensions.AI;
using WeSeek.Inference.Llama.Engine;

namespace WeSeek.Inference.Llama.Tests.Engine;

/// <summary>Top-k selected inside llama.cpp's decode (<c>Model:Llama:Sampler=backend</c>) and drawn from on the real
/// engine: here on the CPU backend, the same graph the GPU runs.</summary>
public sealed class BackendSamplingTests
{
    private static LlamaEngineHost Host(string sampler, int sequences = 4) =>
        LlamaEngineHost.ForModel(new LlamaEngineOptions { ModelPath = TinyModel.File, ContextSize = Math.Max(2048, sequences * 48), MaxSequences = sequences, MaxKeptConversations = 0, Sampler = sampler });

    private static async Task<string> AskAsync(LlamaChatClient client, string question, ChatOptions options) =>
        (await client.GetResponseAsync([new ChatMessage(ChatRole.User, question)], options, TestContext.Current.CancellationToken)).Text;

    private static Task<ChatResponse> RespondAsync(LlamaChatClient client, string question, ChatOptions options) =>
        client.GetResponseAsync([new ChatMessage(ChatRole.User, question)], options, TestContext.Current.CancellationToken);

    [Fact]
    public async Task TopKOne_OnTheBackend_DrawsTheGreedyTokens()
    {
        // With only the most likely token left, the backend's draw must be the argmax at every step: the same text
        // as the managed sampler at temperature 0.
        string greedy;
        await using (var managed = Host("managed"))
        {
            await managed.StartAsync(TestContext.Current.CancellationToken);
            using var client = new LlamaChatClient(managed);
            greedy = await AskAsync(client, "今天吃什么？", new ChatOptions { MaxOutputTokens = 24, Temperature = 0 });
        }

        await using var backend = Host("backend");
        await backend.StartAsync(TestContext.Current.CancellationToken);
        using var onBackend = new LlamaChatClient(backend);
        var drawn = await AskAsync(onBackend, "今天吃什么？", new ChatOptions { MaxOutputTokens = 24, Temperature = 0.9f, TopK = 1, TopP = 1f });
        var atZero = await AskAsync(onBackend, "今天吃什么？", new ChatOptions { MaxOutputTokens = 24, Temperature = 0 });

        Assert.Equal(greedy, drawn);
        Assert.Equal(greedy, atZero);
        Assert.NotEmpty(drawn);
        Assert.True(backend.LoadedEngine!.TokensDrawnFromDecode > 0);
    }

    [Fact]
    public async Task SameSeed_TheManagedSamplersAnswer_OtherSeed_OtherAnswer()
    {
        // The decode selects the top-k and the request's sampler draws from them: the same tokens as the managed
        // scan of the whole row, seed for seed.
        ChatOptions Options(long seed) => new() { MaxOutputTokens = 32, Temperature = 1.5f, TopK = 40, TopP = 0.95f, Seed = seed };
        string managedAnswer;
        await using (var managed = Host("managed"))
        {
            await managed.StartAsync(TestContext.Current.CancellationToken);
            using var managedClient = new LlamaChatClient(managed);
            managedAnswer = await AskAsync(managedClient, "讲个故事", Options(7));
        }

        await using var backend = Host("backend");
        await backend.StartAsync(TestContext.Current.CancellationToken);
        using var client = new LlamaChatClient(backend);

        var first = await RespondAsync(client, "讲个故事", Options(7));
        var again = await RespondAsync(client, "讲个故事", Options(7));
        var other = await RespondAsync(client, "讲个故事", Options(8));

        Assert.Equal(managedAnswer, first.Text);
        // Every token of the three came from the decode's candidates, none from a logits row.
        Assert.Equal(new[] { first, again, other }.Sum(r => r.Usage!.OutputTokenCount!.Value), backend.LoadedEngine!.TokensDrawnFromDecode);
        Assert.Equal(first.Text, again.Text);
        Assert.NotEqual(first.Text, other.Text);
    }

    [Fact]
    public async Task ManyConversations_MixedWithGrammarOnes_AllFinish()
    {
        // A JSON-constrained request needs the raw logits (its grammar runs in the native chain): its sequence
        // leaves the decode's top-k while the others keep theirs, in the same batches. Greedy ones draw top-1.
        await using var backend = Host("backend", sequences: 8);
        await backend.StartAsync(TestContext.Current.CancellationToken);
        using var client = new LlamaChatClient(backend);

        var answers = await Task.WhenAll(Enumerable.Range(0, 12).Select(i => client.GetResponseAsync(
            [new ChatMessage(ChatRole.User, $"第{i}个问题：今天吃什么？")],
            new ChatOptions
            {
                MaxOutputTokens = 20,
                Temperature = i % 3 == 0 ? 0 : 0.8f,
                TopP = 0.95f,
                ResponseFormat = i % 4 == 1 ? ChatResponseFormat.Json : null,
            },
            TestContext.Current.CancellationToken)));

        Assert.All(answers, a => Assert.True(a.FinishReason == ChatFinishReason.Length || a.FinishReason == ChatFinishReason.Stop));
        Assert.Contains(answers, a => a.Usage?.OutputTokenCount == 20);
        var constrained = answers.Where((_, i) => i % 4 == 1).Sum(a => a.Usage!.OutputTokenCount!.Value);
        Assert.Equal(answers.Sum(a => a.Usage!.OutputTokenCount!.Value) - constrained, backend.LoadedEngine!.TokensDrawnFromDecode);
    }

    [Fact]
    public async Task MoreConversationsThanChains_TheRestSampleOnTheCpu_AndNothingAborts()
    {
        // llama.cpp does not count sampler chains in its graph's node budget: too many chains abort the process.
        // Every sequence of a 64-wide batch has its top-k chain; beyond that the rest sample from the raw logits.
        var conversations = BackendSamplers.MaxChains + 8;
        await using var backend = Host("backend", sequences: conversations);
        await backend.StartAsync(TestContext.Current.CancellationToken);
        using var client = new LlamaChatClient(backend);

        var answers = await Task.WhenAll(Enumerable.Range(0, conversations).Select(i => client.GetResponseAsync(
            [new ChatMessage(ChatRole.User, $"问题{i}")],
            new ChatOptions { MaxOutputTokens = 4, Temperature = 0.8f, Seed = i },
            TestContext.Current.CancellationToken)));

        Assert.All(answers, a => Assert.True(a.FinishReason == ChatFinishReason.Length || a.FinishReason == ChatFinishReason.Stop));
        Assert.InRange(backend.LoadedEngine!.TokensDrawnFromDecode, 1, answers.Sum(a => a.Usage!.OutputTokenCount!.Value) - 1);
    }
}
