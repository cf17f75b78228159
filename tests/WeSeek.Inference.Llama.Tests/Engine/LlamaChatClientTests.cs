using Microsoft.Extensions.AI;
using WeSeek.Inference.Llama.Engine;
using WeSeek.Inference.Reasoning;

namespace WeSeek.Inference.Llama.Tests.Engine;

/// <summary>The embedded engine on real llama.cpp, CPU, with a synthesised tiny model (random weights, so
/// the tests assert structure, never wording).</summary>
public sealed class LlamaChatClientTests : IAsyncLifetime
{
    private LlamaEngineHost _host = null!;
    private LlamaChatClient _client = null!;

    public async ValueTask InitializeAsync()
    {
        _host = CreateHost(new LlamaEngineOptions { ModelPath = TinyModel.File, ContextSize = 2048, MaxSequences = 4, MaxQueue = 2 });
        await _host.StartAsync(TestContext.Current.CancellationToken);
        _client = new LlamaChatClient(_host);
    }

    public async ValueTask DisposeAsync() => await _host.DisposeAsync();

    internal static LlamaEngineHost CreateHost(LlamaEngineOptions options) => LlamaEngineHost.ForModel(options);

    private static List<ChatMessage> Prompt(string text) => [new(ChatRole.User, text)];

    [Fact]
    public async Task Streaming_ReportsTokensUsageAndLengthFinish()
    {
        var updates = new List<ChatResponseUpdate>();
        await foreach (var update in _client.GetStreamingResponseAsync(Prompt("你好"), new ChatOptions { MaxOutputTokens = 12, Seed = 1 }, TestContext.Current.CancellationToken))
        {
            updates.Add(update);
        }

        var response = updates.ToChatResponse();
        Assert.True(updates.Count >= 2);
        Assert.Equal(ChatFinishReason.Length, response.FinishReason);
        Assert.Equal(12, response.Usage?.OutputTokenCount);
        Assert.True(response.Usage?.InputTokenCount > 3);
    }

    [Fact]
    public async Task FixedSeed_GivesTheSameText()
    {
        var options = new ChatOptions { MaxOutputTokens = 16, Seed = 1234, Temperature = 0.8f };
        var first = await _client.GetResponseAsync(Prompt("同一个问题"), options, TestContext.Current.CancellationToken);
        var second = await _client.GetResponseAsync(Prompt("同一个问题"), options, TestContext.Current.CancellationToken);
        var other = await _client.GetResponseAsync(Prompt("同一个问题"), new ChatOptions { MaxOutputTokens = 16, Seed = 99, Temperature = 0.8f }, TestContext.Current.CancellationToken);

        Assert.Equal(first.Text, second.Text);
        Assert.NotEqual(first.Text, other.Text);
    }

    [Fact]
    public async Task ConcurrentRequests_AllCompleteInOneBatch()
    {
        var requests = Enumerable.Range(0, 4).Select(i =>
            _client.GetResponseAsync(Prompt($"问题{i}"), new ChatOptions { MaxOutputTokens = 10, Seed = i }, TestContext.Current.CancellationToken));

        var responses = await Task.WhenAll(requests);

        // Each ran to its limit, or the random model drew end-of-generation first.
        Assert.All(responses, r => Assert.True(r.Usage?.OutputTokenCount == 10 || (r.FinishReason == ChatFinishReason.Stop && r.Usage?.OutputTokenCount < 10)));
    }

    [Fact]
    public async Task Cancellation_FreesTheSequenceAtOnce()
    {
        using var cts = new CancellationTokenSource();
        var seen = 0;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            // A fixed seed: with a random one the random model may sample end-of-sequence before the cancel.
            await foreach (var update in _client.GetStreamingResponseAsync(Prompt("很长的回答"), new ChatOptions { MaxOutputTokens = 1000, Seed = 7 }, cts.Token))
            {
                if (++seen == 1)
                {
                    await cts.CancelAsync();
                }
            }
        });

        var engine = await _host.GetEngineAsync(TestContext.Current.CancellationToken);
        for (var i = 0; i < 100 && engine.ActiveCount > 0; i++)
        {
            await Task.Yield();
            await Task.Delay(10, TestContext.Current.CancellationToken);
        }

        Assert.Equal(0, engine.ActiveCount);
        // The freed sequence serves the next request (seeded: unseeded, the random model may end its answer first).
        var after = await _client.GetResponseAsync(Prompt("再来"), new ChatOptions { MaxOutputTokens = 4, Seed = 7 }, TestContext.Current.CancellationToken);
        Assert.True(after.Usage?.OutputTokenCount == 4 || (after.FinishReason == ChatFinishReason.Stop && after.Usage?.OutputTokenCount > 0), $"{after.Usage?.OutputTokenCount} tokens, {after.FinishReason}");
    }

    [Fact]
    public async Task Busy_BeyondSequencesAndQueue_RefusedAtOnceNamingTheOptions()
    {
        // 4 sequences + 2 waiting: of 8 requests arriving together (submitted before any can finish its
        // 200 tokens), 6 are taken and 2 refused at once; none is lost or half-done.
        var requests = Enumerable.Range(0, 8).Select(i =>
            _client.GetResponseAsync(Prompt($"问题{i}"), new ChatOptions { MaxOutputTokens = 200, Seed = i }, TestContext.Current.CancellationToken)).ToList();

        var outcomes = await Task.WhenAll(requests.Select(async r =>
        {
            try
            {
                return (await r).Usage?.OutputTokenCount is > 0 ? "done" : "empty";
            }
            catch (LlamaEngineException e) when (e.Message.Contains("Model:Llama:MaxQueue", StringComparison.Ordinal))
            {
                return "busy";
            }
        }));

        Assert.Equal(6, outcomes.Count(o => o == "done"));
        Assert.Equal(2, outcomes.Count(o => o == "busy"));
    }

    [Fact]
    public async Task StopSequence_EndsTheAnswerBeforeIt()
    {
        var probe = await _client.GetResponseAsync(Prompt("停"), new ChatOptions { MaxOutputTokens = 24, Seed = 5 }, TestContext.Current.CancellationToken);
        var text = probe.Text;
        Assert.True(text.Length >= 6, "The tiny model should produce some text.");
        var stop = text.Substring(text.Length / 2, 2);

        var stopped = await _client.GetResponseAsync(Prompt("停"), new ChatOptions { MaxOutputTokens = 24, Seed = 5, StopSequences = [stop] }, TestContext.Current.CancellationToken);

        Assert.Equal(ChatFinishReason.Stop, stopped.FinishReason);
        Assert.Equal(text[..text.IndexOf(stop, StringComparison.Ordinal)], stopped.Text);
    }

    [Fact]
    public async Task PromptLongerThanTheContext_FailsNamingTheOption()
    {
        var longText = string.Concat(Enumerable.Repeat("很长的输入", 1000));

        var error = await Assert.ThrowsAsync<LlamaEngineException>(() => _client.GetResponseAsync(Prompt(longText), cancellationToken: TestContext.Current.CancellationToken));

        Assert.Contains("Model:Llama:ContextSize", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Template_MultiTurnWithReasoning_FollowsTheR1Rules()
    {
        var engine = await _host.GetEngineAsync(TestContext.Current.CancellationToken);
        List<ChatMessage> history =
        [
            new(ChatRole.User, "你好"),
            new(ChatRole.Assistant, "<think>\n先打个招呼\n</think>\n\n你好！"),
            new(ChatRole.User, "1+1=?"),
        ];

        var rendered = engine.Prompts.Render(history);
        var tokens = R1PromptBuilder.Tokenize(engine.Context, rendered);

        Assert.True(engine.Prompts.IsR1);
        Assert.Equal("<｜User｜>你好<｜Assistant｜>你好！<｜end▁of▁sentence｜><｜User｜>1+1=?<｜Assistant｜><think>\n", rendered);
        Assert.Equal(engine.Context.Vocab.BOS, tokens[0]);
    }

    [Fact]
    public async Task Template_SystemPrompt_IsFollowedDirectlyByTheFirstUserTurn_AsR1sJinjaWritesIt()
    {
        var engine = await _host.GetEngineAsync(TestContext.Current.CancellationToken);

        // One system message, two (joined by a blank line, as the Jinja joins them), and none.
        Assert.Equal("你是助手。<｜User｜>你好<｜Assistant｜><think>\n", engine.Prompts.Render([new(ChatRole.System, "你是助手。"), new(ChatRole.User, "你好")]));
        Assert.Equal("规则一。\n\n规则二。<｜User｜>你好", engine.Prompts.RenderHistory([new(ChatRole.System, "规则一。"), new(ChatRole.System, "规则二。"), new(ChatRole.User, "你好")]));
        Assert.Equal("<｜User｜>你好<｜Assistant｜><think>\n", engine.Prompts.Render([new(ChatRole.User, "你好")]));
    }

    [Fact]
    public async Task WithReasoningSplit_CutOffInsideReasoningIsReportedNotAnswered()
    {
        using var split = new ChatClientBuilder(_client).UseReasoningSplit(ThinkStart.Open).Build();

        var response = await split.GetResponseAsync(Prompt("问"), new ChatOptions { MaxOutputTokens = 8, Seed = 3 }, TestContext.Current.CancellationToken);

        // Random weights almost never emit </think> in 8 tokens: the output is reasoning, cut off.
        Assert.Equal(ChatFinishReason.Length, response.FinishReason);
        Assert.Equal("", response.Text);
        Assert.NotEmpty(response.Messages.SelectMany(m => m.Contents).OfType<TextReasoningContent>());
    }

    [Fact]
    public async Task JsonSchema_ConstrainsTheOutputToValidJson()
    {
        using var split = new ChatClientBuilder(_client).UseReasoningSplit(ThinkStart.Open).Build();
        using var schema = System.Text.Json.JsonDocument.Parse("""
            {"type":"object","properties":{
              "intent":{"type":"string","enum":["weather","chat","help"]},
              "confidence":{"type":"number"},
              "slots":{"type":"array","items":{"type":"string"}},
              "urgent":{"type":"boolean"}},
             "required":["intent","confidence"]}
            """);

        var response = await split.GetResponseAsync(Prompt("明天北京天气怎么样？"),
            new ChatOptions { ResponseFormat = ChatResponseFormat.ForJsonSchema(schema.RootElement.Clone()), MaxOutputTokens = 2000, Seed = 11 },
            TestContext.Current.CancellationToken);

        Assert.Equal(ChatFinishReason.Stop, response.FinishReason);
        using var parsed = System.Text.Json.JsonDocument.Parse(response.Text);
        Assert.Contains(parsed.RootElement.GetProperty("intent").GetString(), (string[])["weather", "chat", "help"]);
        Assert.Equal(System.Text.Json.JsonValueKind.Number, parsed.RootElement.GetProperty("confidence").ValueKind);
        Assert.Equal(System.Text.Json.JsonValueKind.Array, parsed.RootElement.GetProperty("slots").ValueKind);
    }

    [Fact]
    public async Task JsonWithoutSchema_GivesAJsonObject()
    {
        using var split = new ChatClientBuilder(_client).UseReasoningSplit(ThinkStart.Open).Build();

        var response = await split.GetResponseAsync(Prompt("给我一个 JSON"),
            new ChatOptions { ResponseFormat = ChatResponseFormat.Json, MaxOutputTokens = 4000, Seed = 2 },
            TestContext.Current.CancellationToken);

        Assert.Equal(ChatFinishReason.Stop, response.FinishReason);
        using var parsed = System.Text.Json.JsonDocument.Parse(response.Text);
        Assert.Equal(System.Text.Json.JsonValueKind.Object, parsed.RootElement.ValueKind);
    }
}
