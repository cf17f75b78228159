using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using WeSeek.TestKit;

namespace WeSeek.Host.Tests.WebChat;

/// <summary>The web chat through the whole product: Kestrel on a loopback port, the inbox, the turn pipeline,
/// the outbox, and the page's SSE stream.</summary>
public sealed class WebChatEndToEndTests
{
    [Fact]
    public async Task WebChat_WithThinkOff_StreamsTheAnswerWithoutReasoningThenDeliversTheStoredReply()
    {
        using var data = new TempDirectory();
        var model = ScriptedChatClient.Echo();
        await using var app = await StartAsync(data, services =>
        {
            services.RemoveAll<IChatClient>();
            services.AddChatClient(model).UseReasoningSplit();
        });
        using var http = TestHttp.CreateClient(BaseAddress(app));

        await using var events = await SseClient.ConnectAsync(http, "/api/webchat/chats/c-test/events");
        Assert.Equal("ready", (await events.NextAsync()).Event);
        var inboxId = await PostAndReadIdAsync(http, "c-test", "m-1", "你好，世界");
        var turn = await ReadTurnAsync(events, inboxId);

        Assert.Equal(0, turn.ReasoningEvents);
        Assert.Equal("答：你好，世界", turn.Answer);
        Assert.Equal(["答：你好，世界"], turn.Replies);

        var history = await http.GetFromJsonAsync<JsonElement[]>("/api/webchat/chats/c-test/messages");
        Assert.NotNull(history);
        Assert.Equal([true, false], history.Select(h => h.GetProperty("fromUser").GetBoolean()));
        Assert.True(history[1].GetProperty("delivered").GetBoolean());
        var chats = await http.GetFromJsonAsync<JsonElement[]>("/api/webchat/chats");
        Assert.Equal("c-test", Assert.Single(chats!).GetProperty("chatId").GetString());
    }

    [Fact]
    public async Task WebChat_WithThinkOn_StreamsReasoningAndStoresItOnlyInTheLeadThePageFolds()
    {
        using var data = new TempDirectory();
        var model = ScriptedChatClient.Echo();
        await using var app = await StartAsync(data, services =>
        {
            services.RemoveAll<IChatClient>();
            services.AddChatClient(model).UseReasoningSplit();
        });
        using var http = TestHttp.CreateClient(BaseAddress(app));
        await PostAsync(http, "c-think", "m-0", "/think on");
        await WaitForRepliesAsync(http, "c-think", 1);

        await using var events = await SseClient.ConnectAsync(http, "/api/webchat/chats/c-think/events");
        Assert.Equal("ready", (await events.NextAsync()).Event);
        var inboxId = await PostAndReadIdAsync(http, "c-think", "m-1", "你好");
        var turn = await ReadTurnAsync(events, inboxId, replies: 2);

        Assert.Equal("想一想：用户说了「你好」", turn.Reasoning);
        Assert.Equal("答：你好", turn.Answer);
        // The reasoning is stored once, as the lead reply; the answer reply does not repeat it.
        Assert.Equal([WeSeek.Replies.ComposerMiddleware.ReasoningLead + "想一想：用户说了「你好」", "答：你好"], turn.Replies);
        // The page folds exactly that lead into its collapsible box instead of showing it above the answer.
        var page = await http.GetStringAsync("/");
        Assert.Contains("const REASONING_LEAD = \"💭 思考过程：\\n\";", page, StringComparison.Ordinal);
        Assert.Contains("el(\"details\", \"reasoning\")", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WebChat_AgainstOpenAiCompatibleServer_AnswersThroughTheRemoteEngine()
    {
        using var data = new TempDirectory();
        await using var server = await FakeOpenAiServer.StartAsync();
        server.Script = messages => ["<think>\n", "先想", "一想\n</th", "ink>\n\n", "远程", "回答"];
        await using var app = await StartAsync(data, null, $"--Model:Remote:BaseUrl={server.BaseUrl}", "--Model:Remote:ModelId=deepseek-r1-test");
        using var http = TestHttp.CreateClient(BaseAddress(app));

        await using var events = await SseClient.ConnectAsync(http, "/api/webchat/chats/c-remote/events");
        await events.NextAsync();
        await PostAsync(http, "c-remote", "m-1", "问题");
        JsonElement? reply = null;
        var completed = false;
        var reasoning = new StringBuilder();
        while (reply is null || !completed)
        {
            var (name, payload) = await events.NextAsync();
            switch (name)
            {
                case "reasoning":
                    reasoning.Append(payload.GetProperty("text").GetString());
                    break;
                case "completed":
                    completed = true;
                    break;
                case "reply":
                    reply = payload;
                    break;
            }
        }

        Assert.Equal("远程回答", reply.Value.GetProperty("text").GetString());
        Assert.Equal("", reasoning.ToString());
        var request = Assert.Single(server.Requests);
        Assert.Equal("deepseek-r1-test", request["model"]!.GetValue<string>());
        Assert.Equal(0.6, request["temperature"]!.GetValue<double>(), 3);
        Assert.Equal(0.95, request["top_p"]!.GetValue<double>(), 3);
        Assert.True(request["stream"]!.GetValue<bool>());
        // The conversation goes as a pseudonym (for the server's KV cache), never as the chat's own ids.
        Assert.Matches("^c-[0-9a-f]{32}$", request["user"]!.GetValue<string>());
        Assert.DoesNotContain("c-remote", request.ToJsonString(), StringComparison.Ordinal);
        var messages = request["messages"]!.AsArray();
        Assert.Single(messages);
        Assert.Equal("user", messages[0]!["role"]!.GetValue<string>());
        Assert.StartsWith("你是 WeSeek", messages[0]!["content"]!.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task WebChat_SameClientMessageIdTwice_StoredAndAnsweredOnce()
    {
        using var data = new TempDirectory();
        var model = ScriptedChatClient.Echo();
        await using var app = await StartAsync(data, services =>
        {
            services.RemoveAll<IChatClient>();
            services.AddChatClient(model).UseReasoningSplit();
        });
        using var http = TestHttp.CreateClient(BaseAddress(app));
        // The page sets the visitor cookie before the first post, as a browser loading it does.
        (await http.GetAsync("/")).EnsureSuccessStatusCode();

        var responses = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => PostAsync(http, "c-dup", "same-id", "一次")));
        var bodies = await Task.WhenAll(responses.Select(r => r.Content.ReadFromJsonAsync<JsonElement>()));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.Accepted, r.StatusCode));
        Assert.Single(bodies, b => !b.GetProperty("duplicate").GetBoolean());
        Assert.Single(bodies.Select(b => b.GetProperty("inboxId").GetInt64()).Distinct());
        var history = await WaitForRepliesAsync(http, "c-dup", 1);
        Assert.Equal(2, history.Length);
        Assert.Single(model.Calls);
    }

    [Theory]
    [InlineData("{\"chatId\":\"c 1\",\"clientMessageId\":\"x\",\"text\":\"hi\"}", "chatId")]
    [InlineData("{\"chatId\":\"c1\",\"clientMessageId\":\"\",\"text\":\"hi\"}", "clientMessageId")]
    [InlineData("{\"chatId\":\"c1\",\"clientMessageId\":\"x\",\"text\":\"   \"}", "empty")]
    public async Task WebChat_InvalidPost_Returns400WithReasonAndStoresNothing(string body, string reasonContains)
    {
        using var data = new TempDirectory();
        await using var app = await StartAsync(data, null);
        using var http = TestHttp.CreateClient(BaseAddress(app));

        var response = await http.PostAsync("/api/webchat/messages", new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(reasonContains, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Empty((await http.GetFromJsonAsync<JsonElement[]>("/api/webchat/chats"))!);
    }

    [Fact]
    public async Task WebChat_MessageLongerThanTheContext_AnsweredAtOnceWithoutTheModel()
    {
        using var data = new TempDirectory();
        var model = ScriptedChatClient.Echo();
        await using var app = await StartAsync(data, services =>
        {
            services.RemoveAll<IChatClient>();
            services.AddChatClient(model).UseReasoningSplit();
        }, "--Context:MaxTokens=512", "--Dispatcher:RetryDelay=00:00:05");
        using var http = TestHttp.CreateClient(BaseAddress(app));

        var started = TimeProvider.System.GetTimestamp();
        await PostAsync(http, "c-long", "m-1", string.Concat(Enumerable.Repeat("很长的消息，", 600)));
        var history = await WaitForRepliesAsync(http, "c-long", 1);

        // One reply, no model call and no retry (a retry would wait Dispatcher:RetryDelay, 5 s here).
        Assert.Contains("这条消息太长了", history[^1].GetProperty("text").GetString(), StringComparison.Ordinal);
        Assert.Empty(model.Calls);
        Assert.True(TimeProvider.System.GetElapsedTime(started) < TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task WebChat_LongerThanMaxMessageLength_PageKnowsTheLimitAndTheRefusalIsInChinese()
    {
        using var data = new TempDirectory();
        await using var app = await StartAsync(data, null, "--WebChat:MaxMessageLength=100");
        using var http = TestHttp.CreateClient(BaseAddress(app));

        var status = await http.GetFromJsonAsync<JsonElement>("/api/webchat/status");
        var refused = await PostAsync(http, "c-max", "m-1", new string('长', 101));
        var page = await http.GetStringAsync("/");

        Assert.Equal(100, status.GetProperty("maxMessageLength").GetInt32());
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("消息太长了：最多 100 个字符", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Contains("input.maxLength = maxMessageLength", page, StringComparison.Ordinal);
        Assert.Contains("消息太长了：最多 ${maxMessageLength} 个字符", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WebChat_Page_IsServedAtTheRoot()
    {
        using var data = new TempDirectory();
        await using var app = await StartAsync(data, null);
        using var http = TestHttp.CreateClient(BaseAddress(app));

        var response = await http.GetAsync("/");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        var html = await response.Content.ReadAsStringAsync();
        Assert.Contains("/api/webchat/messages", html, StringComparison.Ordinal);
        Assert.Contains("EventSource", html, StringComparison.Ordinal);
    }

    internal static Task<WebApplication> StartAsync(TempDirectory data, Action<IServiceCollection>? configure, params string[] extraArgs) =>
        WeSeekTestHost.StartAppAsync(data, configure, extraArgs);

    private sealed record TurnEvents(string Reasoning, int ReasoningEvents, string Answer, List<string> Replies);

    private static async Task<long> PostAndReadIdAsync(HttpClient http, string chatId, string clientMessageId, string text)
    {
        var posted = await PostAsync(http, chatId, clientMessageId, text);
        Assert.Equal(HttpStatusCode.Accepted, posted.StatusCode);
        return (await posted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("inboxId").GetInt64();
    }

    /// <summary>Token deltas and stored replies travel on two paths and may interleave: reads until both ended.</summary>
    private static async Task<TurnEvents> ReadTurnAsync(SseClient events, long inboxId, int replies = 1)
    {
        var reasoning = new StringBuilder();
        var reasoningEvents = 0;
        var answer = new StringBuilder();
        var stored = new List<string>();
        var completed = false;
        while (stored.Count < replies || !completed)
        {
            var (name, payload) = await events.NextAsync();
            Assert.Equal(inboxId, payload.GetProperty("inboxId").GetInt64());
            switch (name)
            {
                case "reply":
                    stored.Add(payload.GetProperty("text").GetString()!);
                    break;
                case "completed":
                    completed = true;
                    break;
                case "reasoning":
                    reasoningEvents++;
                    reasoning.Append(payload.GetProperty("text").GetString());
                    break;
                case "answer":
                    answer.Append(payload.GetProperty("text").GetString());
                    break;
            }
        }

        return new TurnEvents(reasoning.ToString(), reasoningEvents, answer.ToString(), stored);
    }

    internal static Uri BaseAddress(WebApplication app) => WeSeekTestHost.BaseAddressOf(app);

    internal static Task<HttpResponseMessage> PostAsync(HttpClient http, string chatId, string clientMessageId, string text) =>
        http.PostAsJsonAsync("/api/webchat/messages", new { chatId, clientMessageId, text });

    internal static async Task<JsonElement[]> WaitForRepliesAsync(HttpClient http, string chatId, int replies)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (true)
        {
            var history = (await http.GetFromJsonAsync<JsonElement[]>($"/api/webchat/chats/{chatId}/messages", timeout.Token))!;
            if (history.Count(h => !h.GetProperty("fromUser").GetBoolean() && h.GetProperty("delivered").GetBoolean()) >= replies)
            {
                return history;
            }

            // Polling an HTTP API from outside, as a user's page would.
            await Task.Delay(50, timeout.Token);
        }
    }
}
