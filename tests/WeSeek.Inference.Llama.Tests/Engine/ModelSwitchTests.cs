using Microsoft.Extensions.AI;
using WeSeek.Inference.Llama.Engine;
using WeSeek.Inference.Llama.Models;
using WeSeek.TestKit;

namespace WeSeek.Inference.Llama.Tests.Engine;

/// <summary>Switching the model without a restart, on real llama.cpp with two synthesised tiny models.</summary>
public sealed class ModelSwitchTests : IAsyncLifetime
{
    private readonly TempDirectory _directory = new();
    private LlamaEngineHost _host = null!;
    private LlamaChatClient _client = null!;
    private string _other = null!;

    public async ValueTask InitializeAsync()
    {
        _other = Path.Combine(_directory.Path, "other-tiny.gguf");
        ModelSynthesizer.Write(_other, ModelShape.Tiny, seed: 7);
        _host = LlamaChatClientTests.CreateHost(new LlamaEngineOptions { ModelPath = TinyModel.File, ContextSize = 2048, MaxSequences = 4 });
        await _host.StartAsync(Token);
        _client = new LlamaChatClient(_host);
    }

    public async ValueTask DisposeAsync()
    {
        await _host.DisposeAsync();
        _directory.Dispose();
    }

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static List<ChatMessage> Prompt(string text) => [new(ChatRole.User, text)];

    [Fact]
    public async Task Switch_ATurnAlreadyRunningFinishesOnTheOldModel_TheNextRunsOnTheNew_AndTheOldIsDisposedAfter()
    {
        var oldId = _host.ModelId!;
        var newId = Path.GetFileNameWithoutExtension(_other);
        var running = _client.GetStreamingResponseAsync(Prompt("很长的回答"), new ChatOptions { MaxOutputTokens = 40, Seed = 7 }, Token).GetAsyncEnumerator(Token);
        Assert.True(await running.MoveNextAsync()); // The turn holds the old engine from here.
        var updates = new List<ChatResponseUpdate> { running.Current };

        var change = await _host.SwitchModelAsync(_other, Token);

        Assert.Equal(newId, _host.ModelId);
        Assert.Equal(TinyModel.File, change.From);
        Assert.False(change.Retired.IsCompleted); // Not while a turn still reads from it.
        Assert.Equal(1, _host.Retiring);
        var next = await _client.GetResponseAsync(Prompt("你好"), new ChatOptions { MaxOutputTokens = 8, Seed = 1 }, Token);
        Assert.Equal(newId, next.ModelId);

        while (await running.MoveNextAsync())
        {
            updates.Add(running.Current);
        }

        await running.DisposeAsync();
        var finished = updates.ToChatResponse();
        Assert.NotNull(finished.FinishReason); // It ran to its end, not cut off by the switch.
        Assert.All(updates, u => Assert.Equal(oldId, u.ModelId));
        await change.Retired;
        Assert.Equal(0, _host.Retiring);
    }

    [Fact]
    public async Task Switch_ToAFileThatDoesNotLoad_IsRefusedWithTheReason_AndTheOldModelGoesOnServing()
    {
        var oldId = _host.ModelId;
        var broken = Path.Combine(_directory.Path, "broken.gguf");
        await File.WriteAllTextAsync(broken, "this is not a model", Token);

        var refused = await Assert.ThrowsAsync<LlamaEngineException>(() => _host.SwitchModelAsync(broken, Token));

        Assert.Contains(broken, refused.Message, StringComparison.Ordinal);
        Assert.Contains($"The model {oldId} still serves.", refused.Message, StringComparison.Ordinal);
        Assert.Equal(oldId, _host.ModelId);
        Assert.Equal(0, _host.Retiring);
        var answer = await _client.GetResponseAsync(Prompt("你好"), new ChatOptions { MaxOutputTokens = 8, Seed = 1 }, Token);
        Assert.Equal(oldId, answer.ModelId);
        Assert.True(answer.Usage?.OutputTokenCount > 0);
    }

    [Fact]
    public async Task Switch_BackAndForth_EachTimeTheNewModelAnswers()
    {
        var first = _host.ModelId;
        await _host.SwitchModelAsync(_other, Token);
        var back = await _host.SwitchModelAsync(TinyModel.File, Token);

        await back.Retired; // No turn held the second one: it goes at once.
        Assert.Equal(first, _host.ModelId);
        Assert.Equal(first, (await _client.GetResponseAsync(Prompt("你好"), new ChatOptions { MaxOutputTokens = 4, Seed = 1 }, Token)).ModelId);
    }
}
