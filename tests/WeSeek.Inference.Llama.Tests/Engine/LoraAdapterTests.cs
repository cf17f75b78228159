using System.Diagnostics;
using Microsoft.Extensions.AI;
using WeSeek.Inference.Llama.Engine;
using WeSeek.Inference.Llama.Models;
using WeSeek.TestKit;

namespace WeSeek.Inference.Llama.Tests.Engine;

/// <summary>LoRA adapters on real llama.cpp: the tiny model and adapters synthesised for it (and for other bases).</summary>
public sealed class LoraAdapterTests : IAsyncLifetime
{
    private readonly TempDirectory _directory = new();
    private LlamaEngineHost _host = null!;
    private LlamaChatClient _client = null!;
    private string _adapter = null!;

    public async ValueTask InitializeAsync()
    {
        _adapter = Path.Combine(_directory.Path, "tiny-lora.gguf");
        ModelSynthesizer.WriteLoraAdapter(_adapter, ModelShape.Tiny, rank: 4, alpha: 8f, seed: 11);
        _host = LlamaChatClientTests.CreateHost(new LlamaEngineOptions { ModelPath = TinyModel.File, ContextSize = 4096, MaxSequences = 2, MaxKeptConversations = 4 });
        await _host.StartAsync(TestContext.Current.CancellationToken);
        _client = new LlamaChatClient(_host);
    }

    public async ValueTask DisposeAsync()
    {
        await _host.DisposeAsync();
        _directory.Dispose();
    }

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private async Task<string> AnswerAsync(string? conversation = null) =>
        (await _client.GetResponseAsync([new ChatMessage(ChatRole.User, "请用三句话介绍一下你自己。")], new ChatOptions { ConversationId = conversation, MaxOutputTokens = 24, Seed = 1234, Temperature = 0.8f }, Token)).Text;

    [Fact]
    public void SynthesisedAdapter_ReadsAsALoraForTheTinyModel()
    {
        var file = LoraAdapterFile.Read(_adapter);

        Assert.Equal("qwen2", file.Architecture);
        Assert.Equal(4, file.Rank);
        Assert.Equal(8f, file.Alpha);
        Assert.Equal(ModelShape.Tiny.BlockCount * 3, file.Targets.Count);
        Assert.Contains("blk.0.attn_q.weight", file.Targets);
        Assert.Null(file.ProblemWith(GgufReader.Read(TinyModel.File), "tiny"));
    }

    [Fact]
    public async Task FixedSeedGeneration_ChangesWithTheAdapter_AndReturnsExactlyToTheBaseOutputWhenRemoved()
    {
        var engine = await _host.GetEngineAsync(Token);
        var baseline = await AnswerAsync();
        Assert.Equal(baseline, await AnswerAsync()); // Fixed seed: the base model's answer is reproducible.

        await engine.SetAdaptersAsync([new LoraAdapterOptions { Path = _adapter, Scale = 1f }], Token);
        var adapted = await AnswerAsync();
        Assert.Single(engine.Adapters);

        await engine.SetAdaptersAsync([], Token);
        var restored = await AnswerAsync();

        Assert.NotEqual(baseline, adapted);
        Assert.Equal(baseline, restored);
        Assert.Empty(engine.Adapters);
    }

    [Fact]
    public async Task AnAdapterFileRewrittenUnderTheSameName_IsLoadedAgain()
    {
        var engine = await _host.GetEngineAsync(Token);
        var retrained = Path.Combine(_directory.Path, "retrained.gguf");
        ModelSynthesizer.WriteLoraAdapter(retrained, ModelShape.Tiny, seed: 21);
        await engine.SetAdaptersAsync([new LoraAdapterOptions { Path = retrained }], Token);
        var first = await AnswerAsync();

        ModelSynthesizer.WriteLoraAdapter(retrained, ModelShape.Tiny, seed: 22); // Same name, same size, new weights.
        File.SetLastWriteTimeUtc(retrained, File.GetLastWriteTimeUtc(retrained).AddSeconds(1));
        await engine.SetAdaptersAsync([new LoraAdapterOptions { Path = retrained }], Token);
        var second = await AnswerAsync();

        Assert.NotEqual(first, second);
    }

    [Fact]
    public async Task SwappingAdapters_DropsKeptCaches_SoNoConversationContinuesACacheMadeUnderTheOldOne()
    {
        var engine = await _host.GetEngineAsync(Token);
        List<ChatMessage> history = [new(ChatRole.User, "第一个问题")];
        var options = new ChatOptions { ConversationId = "kept", MaxOutputTokens = 8, Seed = 3 };
        var first = await _client.GetResponseAsync(history, options, Token);
        history.Add(new ChatMessage(ChatRole.Assistant, first.Text));
        history.Add(new ChatMessage(ChatRole.User, "第二个问题"));
        var reused = await _client.GetResponseAsync(history, options, Token);
        Assert.True(reused.Usage?.CachedInputTokenCount > 0, "the second turn should reuse the first turn's cache");
        await engine.UntilIdleAsync(Token); // The answer is prefilled ahead into the kept cache; then it is idle, kept.

        var swap = await engine.SetAdaptersAsync([new LoraAdapterOptions { Path = _adapter }], Token);
        history.Add(new ChatMessage(ChatRole.Assistant, reused.Text));
        history.Add(new ChatMessage(ChatRole.User, "第三个问题"));
        var afterSwap = await _client.GetResponseAsync(history, options, Token);

        Assert.True(swap.CachesDropped >= 1);
        Assert.Equal(0, afterSwap.Usage?.CachedInputTokenCount);
    }

    [Fact]
    public async Task SwappingAdapters_ForgetsParkedCaches_SoNoneIsRestoredUnderTheNewAdapter()
    {
        var host = LlamaChatClientTests.CreateHost(new LlamaEngineOptions { ModelPath = TinyModel.File, ContextSize = 4096, MaxSequences = 2, MaxKeptConversations = 2, MaxParkedInMemory = 8, MaxParkedOnDisk = 0 });
        await using (host)
        {
            var engine = await host.GetEngineAsync(Token);
            using var client = new LlamaChatClient(host);
            var options = new ChatOptions { ConversationId = "parked", MaxOutputTokens = 6, Seed = 2 };
            List<ChatMessage> history = [new(ChatRole.User, "一段足够长的开头，让缓存值得停放。")];
            var first = await client.GetResponseAsync(history, options, Token);
            foreach (var other in new[] { "x", "y", "z" })
            {
                // Three other conversations push "parked" out of the two kept sequences.
                await client.GetResponseAsync([new(ChatRole.User, other)], new ChatOptions { ConversationId = other, MaxOutputTokens = 2 }, Token);
            }

            Assert.True(engine.Parking.InMemory >= 1, "the first conversation's cache should be parked");
            var restoredBefore = engine.Parking.Restored;

            var swap = await engine.SetAdaptersAsync([new LoraAdapterOptions { Path = _adapter }], Token);
            history.Add(new ChatMessage(ChatRole.Assistant, first.Text));
            history.Add(new ChatMessage(ChatRole.User, "继续"));
            var next = await client.GetResponseAsync(history, options, Token);

            Assert.True(swap.CachesDropped >= 2); // The kept one and the parked one.
            Assert.Equal(0, engine.Parking.InMemory);
            Assert.Equal(restoredBefore, engine.Parking.Restored);
            Assert.Equal(0, next.Usage?.CachedInputTokenCount);
        }
    }

    [Fact]
    public async Task HotSwap_WhileGenerating_PausesAtAStepBoundary_AndLosesNoRequest()
    {
        var engine = await _host.GetEngineAsync(Token);
        var options = new ChatOptions { MaxOutputTokens = 160, Seed = 9, Temperature = 0.8f };

        // Two generating (MaxSequences = 2) and two queued behind them.
        var tokenTimes = new List<long>();
        var swapAt = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var streamed = Task.Run(async () =>
        {
            var text = new System.Text.StringBuilder();
            await foreach (var update in _client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "讲一个很长的故事")], options, Token))
            {
                text.Append(update.Text);
                lock (tokenTimes)
                {
                    tokenTimes.Add(Stopwatch.GetTimestamp());
                    if (tokenTimes.Count == 20)
                    {
                        swapAt.TrySetResult();
                    }
                }
            }

            swapAt.TrySetResult();
            return text.ToString();
        }, Token);
        var others = Enumerable.Range(0, 3).Select(i => _client.GetResponseAsync([new ChatMessage(ChatRole.User, $"问题 {i}")], options, Token)).ToList();

        await swapAt.Task;
        var swap = await engine.SetAdaptersAsync([new LoraAdapterOptions { Path = _adapter }], Token);
        var answers = await Task.WhenAll(others);
        var story = await streamed;

        Assert.All(answers, a => Assert.True(a.FinishReason == ChatFinishReason.Length || a.FinishReason == ChatFinishReason.Stop));
        Assert.NotEmpty(story);
        Assert.InRange(swap.Requeued, 1, 2);
        Assert.True(swap.Pause < TimeSpan.FromSeconds(1), $"the scheduler stood still {swap.Pause.TotalMilliseconds} ms");
        long[] times;
        lock (tokenTimes)
        {
            times = [.. tokenTimes];
        }

        var longestGap = times.Zip(times.Skip(1), (a, b) => Stopwatch.GetElapsedTime(a, b)).DefaultIfEmpty().Max();
        TestContext.Current.SendDiagnosticMessage($"Hot swap: scheduler paused {swap.Pause.TotalMilliseconds:F2} ms, applied {swap.Waited.TotalMilliseconds:F1} ms after the request, {swap.Requeued} requests re-prefilled; longest gap between streamed tokens {longestGap.TotalMilliseconds:F1} ms over {times.Length} updates.");
    }

    [Fact]
    public async Task AdapterForAnotherBase_OrNotAnAdapter_IsRefusedWithOneLine_AndTheEngineKeepsServing()
    {
        var engine = await _host.GetEngineAsync(Token);
        var baseline = await AnswerAsync();
        var otherSize = Path.Combine(_directory.Path, "lora-for-0.5b.gguf");
        ModelSynthesizer.WriteLoraAdapter(otherSize, ModelShape.Qwen05B, rank: 2);
        var otherArchitecture = Path.Combine(_directory.Path, "lora-for-llama.gguf");
        ModelSynthesizer.WriteLoraAdapter(otherArchitecture, ModelShape.Tiny, architecture: "llama");
        var notText = Path.Combine(_directory.Path, "notes.gguf");
        await File.WriteAllTextAsync(notText, "hello", Token);

        var size = await Assert.ThrowsAsync<LlamaEngineException>(() => engine.SetAdaptersAsync([new LoraAdapterOptions { Path = otherSize }], Token));
        var architecture = await Assert.ThrowsAsync<LlamaEngineException>(() => engine.SetAdaptersAsync([new LoraAdapterOptions { Path = otherArchitecture }], Token));
        var model = await Assert.ThrowsAsync<LlamaEngineException>(() => engine.SetAdaptersAsync([new LoraAdapterOptions { Path = TinyModel.File }], Token));
        var garbage = await Assert.ThrowsAsync<LlamaEngineException>(() => engine.SetAdaptersAsync([new LoraAdapterOptions { Path = _adapter }, new LoraAdapterOptions { Path = notText }], Token));

        Assert.Contains("another base model", size.Message, StringComparison.Ordinal);
        Assert.Contains("made for a llama model", architecture.Message, StringComparison.Ordinal);
        Assert.Contains("is not a LoRA adapter", model.Message, StringComparison.Ordinal);
        Assert.Contains("not a GGUF file", garbage.Message, StringComparison.Ordinal);
        Assert.All(new[] { size, architecture, model, garbage }, e => Assert.DoesNotContain('\n', e.Message));
        Assert.Empty(engine.Adapters); // The valid one in the refused list was not applied either.
        Assert.Equal(baseline, await AnswerAsync());
    }
}
