using System.Collections.Concurrent;
using Microsoft.Extensions.AI;
using WeSeek.Inference.Llama.Engine;

namespace WeSeek.Inference.Llama.Tests.Engine;

/// <summary>The batching scheduler's promises, on real llama.cpp with the tiny model and a small batch.</summary>
public sealed class SchedulerTests : IAsyncLifetime
{
    private LlamaEngineHost _host = null!;
    private LlamaChatClient _client = null!;

    public async ValueTask InitializeAsync()
    {
        // A 32-token batch: a 600-token prompt needs about 19 decode steps of prefill.
        _host = LlamaChatClientTests.CreateHost(new LlamaEngineOptions { ModelPath = TinyModel.File, ContextSize = 4096, BatchSize = 32, MaxSequences = 4 });
        await _host.StartAsync(TestContext.Current.CancellationToken);
        _client = new LlamaChatClient(_host);
    }

    public async ValueTask DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task PromptLongerThanTheBatch_IsPrefilledInChunksAndAnswered()
    {
        var prompt = string.Concat(Enumerable.Repeat("abcdef ", 90));

        var response = await _client.GetResponseAsync([new ChatMessage(ChatRole.User, prompt)], new ChatOptions { MaxOutputTokens = 5 }, TestContext.Current.CancellationToken);

        Assert.True(response.Usage?.InputTokenCount > 600);
        Assert.Equal(5, response.Usage?.OutputTokenCount);
    }

    [Fact]
    public async Task LongPrefill_DoesNotStallAConversationAlreadyGenerating()
    {
        var order = new ConcurrentQueue<string>();
        async Task RunAsync(string name, string text, int tokens, TaskCompletionSource? started)
        {
            await foreach (var update in _client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, text)], new ChatOptions { MaxOutputTokens = tokens, Seed = 7 }, TestContext.Current.CancellationToken))
            {
                if (update.Contents.OfType<UsageContent>().Any())
                {
                    continue;
                }

                order.Enqueue(name);
                started?.TrySetResult();
            }
        }

        var generating = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var a = RunAsync("a", "short", 200, generating);
        await generating.Task.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        var b = RunAsync("b", string.Concat(Enumerable.Repeat("abcdef ", 90)), 5, null);
        await Task.WhenAll(a, b);

        // While b's 600-token prompt was prefilled 32 tokens per step, a went on decoding a token per step.
        var events = order.ToList();
        var beforeB = events.TakeWhile(e => e == "a").Count();
        Assert.True(beforeB >= 10, $"Only {beforeB} of a's pieces came before b's first.");
    }
}
