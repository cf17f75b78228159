using Microsoft.Extensions.AI;
using WeSeek.Inference.Llama.Engine;

namespace WeSeek.Inference.Llama.Tests.Engine;

/// <summary>Tokens drawn inside llama.cpp's decode (<c>Model:Llama:Sampler=backend</c>) on the real engine: here on
/// the CPU backend, the same graph the GPU runs.</summary>
public sealed class BackendSamplingTests
{
    private static LlamaEngineHost Host(string sampler, int sequences = 4) =>
        LlamaEngineHost.ForModel(new LlamaEngineOptions { ModelPath = TinyModel.File, ContextSize = 2048, MaxSequences = sequences, MaxKeptConversations = 0, Sampler = sampler });

    private static async Task<string> AskAsync(LlamaChatClient client, string question, ChatOptions options) =>
        (await client.GetResponseAsync([new ChatMessage(ChatRole.User, question)], options, TestContext.Current.CancellationToken)).Text;

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

        Assert.Equal(greedy, drawn);
        Assert.NotEmpty(drawn);
    }

    [Fact]
    public async Task SameSeed_SameAnswer_OtherSeed_OtherAnswer()
    {
        await using var backend = Host("backend");
        await backend.StartAsync(TestContext.Current.CancellationToken);
        using var client = new LlamaChatClient(backend);
        ChatOptions Options(long seed) => new() { MaxOutputTokens = 32, Temperature = 1.5f, TopK = 1000, TopP = 1f, Seed = seed };

        var first = await AskAsync(client, "讲个故事", Options(7));
        var again = await AskAsync(client, "讲个故事", Options(7));
        var other = await AskAsync(client, "讲个故事", Options(8));

        Assert.Equal(first, again);
        Assert.NotEqual(first, other);
    }

    [Fact]
    public async Task ManyConversations_MixedWithGreedyOnes_AllFinish()
    {
        // Greedy requests need the raw logits: their sequences go back to the CPU sampler in the same batches.
        await using var backend = Host("backend", sequences: 8);
        await backend.StartAsync(TestContext.Current.CancellationToken);
        using var client = new LlamaChatClient(backend);

        var answers = await Task.WhenAll(Enumerable.Range(0, 12).Select(i => client.GetResponseAsync(
            [new ChatMessage(ChatRole.User, $"第{i}个问题：今天吃什么？")],
            new ChatOptions { MaxOutputTokens = 20, Temperature = i % 3 == 0 ? 0 : 0.8f, TopP = 0.95f },
            TestContext.Current.CancellationToken)));

        Assert.All(answers, a => Assert.True(a.FinishReason == ChatFinishReason.Length || a.FinishReason == ChatFinishReason.Stop));
        Assert.Contains(answers, a => a.Usage?.OutputTokenCount == 20);
    }

    [Fact]
    public async Task MoreConversationsThanChains_TheRestSampleOnTheCpu_AndNothingAborts()
    {
        // llama.cpp does not count sampler chains in its graph's node budget: too many chains abort the process.
        // 48 conversations at once: 16 draw in the decode, the others on the CPU.
        await using var backend = Host("backend", sequences: 48);
        await backend.StartAsync(TestContext.Current.CancellationToken);
        using var client = new LlamaChatClient(backend);

        var answers = await Task.WhenAll(Enumerable.Range(0, 48).Select(i => client.GetResponseAsync(
            [new ChatMessage(ChatRole.User, $"问题{i}")],
            new ChatOptions { MaxOutputTokens = 4, Temperature = 0.8f, Seed = i },
            TestContext.Current.CancellationToken)));

        Assert.All(answers, a => Assert.True(a.FinishReason == ChatFinishReason.Length || a.FinishReason == ChatFinishReason.Stop));
    }
}
