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

        var response = await _client.GetResponseAsync([new ChatMessage(ChatRole.User, prompt)], new ChatOptions { MaxOutputTokens = 5, Seed = 7 }, TestContext.Current.CancellationToken);

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

    [Theory]
    [InlineData(2)] // The answer ahead holds the last free sequence: the message could not even be admitted.
    [InlineData(3)] // A sequence is free: the message waited for its own conversation's answer ahead.
    public async Task AMessage_StopsItsAnswerPrefilledAhead_InsteadOfWaitingForOthersToFinish(int sequences)
    {
        var host = LlamaChatClientTests.CreateHost(new LlamaEngineOptions { ModelPath = TinyModel.File, ContextSize = 16384, BatchSize = 32, MaxSequences = sequences, PrefillAheadDelayMs = 0 });
        await using (host)
        {
            var token = TestContext.Current.CancellationToken;
            var engine = await host.GetEngineAsync(token);
            using var client = new LlamaChatClient(host);
            List<ChatMessage> history = [new(ChatRole.User, "用户A的问题")];
            var first = await client.GetResponseAsync(history, new ChatOptions { ConversationId = "a", MaxOutputTokens = 4, Seed = 1 }, token);
            await engine.UntilIdleAsync(token);

            // A long answer to decode ahead: at 32 tokens a step it needs about sixty steps (a loaded machine that
            // delays this test's thread must not let it finish before B arrives), and it moves only in steps no
            // message is in.
            history.Add(new ChatMessage(ChatRole.Assistant, first.Text + string.Concat(Enumerable.Repeat("这是一个很长的回答。", 60))));
            Assert.True(engine.TryPrefillAhead(R1PromptBuilder.Tokenize(engine.Context, engine.Prompts.RenderHistory(history)), "a"));
            for (var i = 0; i < 2000 && engine.ActiveCount == 0; i++)
            {
                await Task.Delay(1, token);
            }

            var order = new ConcurrentQueue<string>();
            var bStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            using var stopB = CancellationTokenSource.CreateLinkedTokenSource(token);
            // B may run to 1,500 tokens, so A, if it waited for B, could not finish first even on a starved machine;
            // B is stopped once A has answered. (With this seed B's answer ends by itself at about 80 tokens; A, whose
            // prefill shares steps with B's decoding one token each, answers after about 40 of them.)
            const int bTokens = 1500;
            var b = StreamAsync(client, "b", [new ChatMessage(ChatRole.User, "用户B的问题")], bTokens, order, bStarted, stopB.Token);
            await bStarted.Task.WaitAsync(TimeSpan.FromSeconds(30), token);
            Assert.Equal(2, engine.ActiveCount); // B generating, A's answer ahead still on its sequence, stalled.

            history.Add(new ChatMessage(ChatRole.User, "再问一句"));
            var aCached = await StreamAsync(client, "a", history, 2, order, null, token);
            await stopB.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => b);

            // A answered while B was still generating, from what its answer ahead had decoded.
            var events = order.ToList();
            Assert.True(events.Contains("a") && events.Count(e => e == "b") < bTokens, $"A's first token came after all {events.Count(e => e == "b")} of B's tokens.");
            Assert.True(aCached > 0, "A's message did not continue its cache.");
        }
    }

    private static async Task<long> StreamAsync(LlamaChatClient client, string name, List<ChatMessage> history, int tokens, ConcurrentQueue<string> order, TaskCompletionSource? started, CancellationToken cancellationToken)
    {
        long cached = 0;
        await foreach (var update in client.GetStreamingResponseAsync(history, new ChatOptions { ConversationId = name, MaxOutputTokens = tokens, Seed = 7 }, cancellationToken))
        {
            if (update.Contents.OfType<UsageContent>().FirstOrDefault() is { } usage)
            {
                cached = usage.Details.CachedInputTokenCount ?? 0;
                continue;
            }

            order.Enqueue(name);
            started?.TrySetResult();
        }

        return cached;
    }
}
