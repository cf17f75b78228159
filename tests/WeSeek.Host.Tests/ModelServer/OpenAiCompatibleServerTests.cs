using System.ClientModel;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using OpenAI;
using OpenAI.Chat;
using WeSeek.Host.Commands;
using WeSeek.Host.Tests.WebChat;
using WeSeek.Inference.Llama.Models;
using WeSeek.TestKit;

namespace WeSeek.Host.Tests.ModelServer;

/// <summary><c>weseek model serve</c> on real llama.cpp with a synthesised tiny model, called by the official
/// OpenAI .NET client and by raw HTTP over loopback.</summary>
public sealed class OpenAiCompatibleServerTests : IAsyncLifetime
{
    private readonly TempDirectory _data = new();
    private WebApplication _app = null!;
    private Uri _base = null!;

    public async ValueTask InitializeAsync()
    {
        var model = Path.Combine(_data.Path, "tiny.gguf");
        ModelSynthesizer.Write(model, ModelShape.Tiny);
        _app = ModelServeCommand.Build(["--urls=http://127.0.0.1:0", $"--Model:Llama:ModelPath={model}", $"--Storage:DataDirectory={_data.Path}"]);
        await _app.StartAsync(TestContext.Current.CancellationToken);
        _base = WebChatEndToEndTests.BaseAddress(_app);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _data.Dispose();
    }

    private ChatClient OfficialClient() =>
        new OpenAIClient(new ApiKeyCredential("unused"), new OpenAIClientOptions { Endpoint = new Uri(_base, "/v1") }).GetChatClient("tiny");

    [Fact]
    public async Task OfficialClient_Buffered_GetsUsageAndFinishReason()
    {
        ChatCompletion completion = await OfficialClient().CompleteChatAsync(
            [new UserChatMessage("你好")], new ChatCompletionOptions { MaxOutputTokenCount = 8, Temperature = 0.6f }, TestContext.Current.CancellationToken);

        // Random weights may sample end-of-sequence early; either way the usage is reported.
        Assert.True(completion.FinishReason is ChatFinishReason.Length or ChatFinishReason.Stop);
        Assert.InRange(completion.Usage.OutputTokenCount, 1, 8);
        Assert.True(completion.Usage.InputTokenCount > 3);
    }

    [Fact]
    public async Task OfficialClient_Streaming_EndsWithAFinishReason()
    {
        var updates = new List<StreamingChatCompletionUpdate>();
        await foreach (var update in OfficialClient().CompleteChatStreamingAsync(
            [new UserChatMessage("讲个故事")], new ChatCompletionOptions { MaxOutputTokenCount = 12 }, TestContext.Current.CancellationToken))
        {
            updates.Add(update);
        }

        Assert.Contains(updates, u => u.FinishReason is ChatFinishReason.Length or ChatFinishReason.Stop);
    }

    [Fact]
    public async Task Buffered_ReasoningComesApartFromContent()
    {
        using var http = TestHttp.CreateClient(_base);
        var response = await http.PostAsJsonAsync("/v1/chat/completions",
            new { model = "tiny", messages = new[] { new { role = "user", content = "问" } }, max_tokens = 6, seed = 3 }, TestContext.Current.CancellationToken);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);

        // The prompt opens <think>; six random tokens never close it: all reasoning, no content, cut off.
        var message = body.GetProperty("choices")[0].GetProperty("message");
        Assert.Equal("", message.GetProperty("content").GetString());
        Assert.False(string.IsNullOrEmpty(message.GetProperty("reasoning_content").GetString()));
        Assert.Equal("length", body.GetProperty("choices")[0].GetProperty("finish_reason").GetString());
    }

    [Fact]
    public async Task Streamed_DeltasCarryReasoningContentAndEndWithDone()
    {
        using var http = TestHttp.CreateClient(_base);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = JsonContent.Create(new { model = "tiny", messages = new[] { new { role = "user", content = "问" } }, max_tokens = 6, seed = 3, stream = true, stream_options = new { include_usage = true } }),
        };
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, TestContext.Current.CancellationToken);
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        var events = text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Select(e => e["data: ".Length..]).ToList();

        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("[DONE]", events[^1]);
        var chunks = events.SkipLast(1).Select(e => JsonDocument.Parse(e).RootElement).ToList();
        Assert.Contains(chunks, c => c.GetProperty("choices").GetArrayLength() > 0 && c.GetProperty("choices")[0].GetProperty("delta").TryGetProperty("reasoning_content", out _));
        Assert.Equal(6, chunks[^1].GetProperty("usage").GetProperty("completion_tokens").GetInt32());
    }

    [Fact]
    public async Task ConversationHeader_SecondTurnReportsCachedTokens()
    {
        using var http = TestHttp.CreateClient(_base);
        async Task<JsonElement> AskAsync(object[] messages)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = JsonContent.Create(new { messages, max_tokens = 4 }) };
            request.Headers.Add("X-Conversation-Id", "chat-42");
            using var response = await http.SendAsync(request, TestContext.Current.CancellationToken);
            return await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);
        }

        await AskAsync([new { role = "user", content = "第一句话" }]);
        var second = await AskAsync([new { role = "user", content = "第一句话" }, new { role = "assistant", content = "好" }, new { role = "user", content = "第二句" }]);

        Assert.True(second.GetProperty("usage").GetProperty("prompt_tokens_details").GetProperty("cached_tokens").GetInt32() > 0);
    }

    [Fact]
    public async Task ModelsAndHealth_Answer()
    {
        using var http = TestHttp.CreateClient(_base);

        var models = await http.GetFromJsonAsync<JsonElement>("/v1/models", TestContext.Current.CancellationToken);
        var health = await http.GetAsync("/health", TestContext.Current.CancellationToken);

        Assert.Equal("tiny", models.GetProperty("data")[0].GetProperty("id").GetString());
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }

    [Fact]
    public async Task Metrics_ReportCachedAndPrefilledPromptTokensInPrometheusFormat()
    {
        using var http = TestHttp.CreateClient(_base);
        await http.PostAsJsonAsync("/v1/chat/completions", new { messages = new[] { new { role = "user", content = "指标" } }, max_tokens = 2 }, TestContext.Current.CancellationToken);

        var metrics = await http.GetStringAsync("/metrics", TestContext.Current.CancellationToken);

        Assert.Contains("weseek_llama_prompt_tokens", metrics, StringComparison.Ordinal);
        Assert.Contains("source=\"prefilled\"", metrics, StringComparison.Ordinal);
        Assert.Contains("weseek_llama_generated_tokens", metrics, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{}", "messages")]
    [InlineData("{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"temperature\":\"hot\"}", "temperature")]
    [InlineData("not json", "")]
    [InlineData("{\"messages\":[{\"role\":\"user\",\"content\":5}]}", "content")]
    [InlineData("{\"messages\":[{\"role\":7,\"content\":\"x\"}]}", "role")]
    [InlineData("{\"messages\":[\"hi\"]}", "messages")]
    [InlineData("{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"stream\":\"yes\"}", "stream")]
    [InlineData("{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"temperature\":-0.1}", "temperature")]
    [InlineData("{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"temperature\":2.5}", "temperature")]
    [InlineData("{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"top_p\":0}", "top_p")]
    [InlineData("{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"top_p\":1.5}", "top_p")]
    [InlineData("{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"max_tokens\":0}", "max_tokens")]
    [InlineData("{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"max_tokens\":1.5}", "max_tokens")]
    [InlineData("{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"user\":12}", "user")]
    [InlineData("{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"stop\":[1]}", "stop")]
    [InlineData("{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"stream_options\":{\"include_usage\":\"no\"}}", "include_usage")]
    [InlineData("{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"response_format\":{\"type\":\"xml\"}}", "response_format")]
    public async Task BadRequest_Returns400WithAnOpenAiError(string body, string mentions)
    {
        using var http = TestHttp.CreateClient(_base);

        var response = await http.PostAsync("/v1/chat/completions", new StringContent(body, Encoding.UTF8, "application/json"), TestContext.Current.CancellationToken);
        var error = await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(mentions, error.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
    }
}
