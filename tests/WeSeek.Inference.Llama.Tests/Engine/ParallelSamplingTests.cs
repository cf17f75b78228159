using Microsoft.Extensions.AI;
using WeSeek.Inference.Llama.Engine;

namespace WeSeek.Inference.Llama.Tests.Engine;

/// <summary>Sampling many conversations in parallel changes nothing but the speed: the same seeds give the
/// same texts as sampling them one after another.</summary>
public sealed class ParallelSamplingTests
{
    private static async Task<string[]> GenerateAsync(int parallelFrom)
    {
        var host = LlamaEngineHost.ForModel(new LlamaEngineOptions { ModelPath = TinyModel.File, ContextSize = 2048, MaxSequences = 8, ParallelSamplingFrom = parallelFrom, MaxKeptConversations = 0 });
        await using (host)
        {
            await host.StartAsync(TestContext.Current.CancellationToken);
            using var client = new LlamaChatClient(host);
            var answers = Enumerable.Range(0, 8).Select(i => client.GetResponseAsync(
                [new ChatMessage(ChatRole.User, $"第{i}个问题：今天吃什么？")],
                new ChatOptions { MaxOutputTokens = 24, Seed = 100 + i, Temperature = 0.9f, TopP = 0.95f },
                TestContext.Current.CancellationToken));
            return [.. (await Task.WhenAll(answers)).Select(r => r.Text)];
        }
    }

    [Fact]
    public async Task EightConversations_SameTextsInParallelAsOneAfterAnother()
    {
        var serial = await GenerateAsync(int.MaxValue);
        var parallel = await GenerateAsync(2);

        Assert.Equal(serial, parallel);
        Assert.True(serial.Distinct().Count() > 1, "different seeds should give different texts");
    }
}
