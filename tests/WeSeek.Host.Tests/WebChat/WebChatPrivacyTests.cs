using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using WeSeek.TestKit;

namespace WeSeek.Host.Tests.WebChat;

/// <summary>Two browsers on one web chat (two HTTP clients, each with its own cookies): neither may list, read
/// or stream the other's chats.</summary>
public sealed class WebChatPrivacyTests
{
    [Fact]
    public async Task SecondVisitor_ListsReadsAndStreams_NothingOfTheFirstVisitorsChat()
    {
        using var data = new TempDirectory();
        var model = ScriptedChatClient.Echo();
        await using var app = await WebChatEndToEndTests.StartAsync(data, services =>
        {
            services.RemoveAll<IChatClient>();
            services.AddChatClient(model).UseReasoningSplit();
        });
        using var alice = TestHttp.CreateClient(WebChatEndToEndTests.BaseAddress(app));
        using var mallory = TestHttp.CreateClient(WebChatEndToEndTests.BaseAddress(app));
        Assert.Equal(HttpStatusCode.Accepted, (await WebChatEndToEndTests.PostAsync(alice, "alice-chat", "m-1", "我的体检报告")).StatusCode);
        await WebChatEndToEndTests.WaitForRepliesAsync(alice, "alice-chat", 1);

        // Mallory knows (or guesses) the chat id: it names only Mallory's own, empty chat.
        var list = await mallory.GetFromJsonAsync<JsonElement[]>("/api/webchat/chats");
        var read = await mallory.GetFromJsonAsync<JsonElement[]>("/api/webchat/chats/alice-chat/messages");
        await using var events = await SseClient.ConnectAsync(mallory, "/api/webchat/chats/alice-chat/events");
        Assert.Equal("ready", (await events.NextAsync()).Event);
        Assert.Equal(HttpStatusCode.Accepted, (await WebChatEndToEndTests.PostAsync(alice, "alice-chat", "m-2", "第二条")).StatusCode);
        await WebChatEndToEndTests.WaitForRepliesAsync(alice, "alice-chat", 2);
        // Mallory's own message in the chat of that name is answered on Mallory's stream; nothing of Alice's comes before it.
        Assert.Equal(HttpStatusCode.Accepted, (await WebChatEndToEndTests.PostAsync(mallory, "alice-chat", "m-3", "mallory")).StatusCode);
        var seen = new List<string>();
        string? reply = null;
        while (reply is null)
        {
            var (name, payload) = await events.NextAsync();
            seen.Add(payload.GetRawText());
            reply = name == "reply" ? payload.GetProperty("text").GetString() : null;
        }

        Assert.Empty(list!);
        Assert.Empty(read!);
        Assert.Equal("答：mallory", reply);
        Assert.DoesNotContain(seen, e => e.Contains("第二条", StringComparison.Ordinal) || e.Contains("\u7B2C\u4E8C", StringComparison.OrdinalIgnoreCase));
        var aliceList = await alice.GetFromJsonAsync<JsonElement[]>("/api/webchat/chats");
        Assert.Equal("alice-chat", Assert.Single(aliceList!).GetProperty("chatId").GetString());
        Assert.Equal(4, (await alice.GetFromJsonAsync<JsonElement[]>("/api/webchat/chats/alice-chat/messages"))!.Length);
    }

    [Fact]
    public async Task VisitorCookie_IsHttpOnly()
    {
        using var data = new TempDirectory();
        await using var app = await WebChatEndToEndTests.StartAsync(data, null);
        using var http = TestHttp.CreateClient(WebChatEndToEndTests.BaseAddress(app));

        var response = await http.GetAsync("/");

        var cookie = Assert.Single(response.Headers.GetValues("Set-Cookie"), c => c.StartsWith("weseek_visitor=", StringComparison.Ordinal));
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=lax", cookie, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task OperatorNotices_AboutAWeChatAccount_ReachTheConsoleButNotTheWebChatsVisitors()
    {
        using var data = new TempDirectory();
        await using var app = await WebChatEndToEndTests.StartAsync(data, null);
        var notices = app.Services.GetRequiredService<WeSeek.Operations.IOperatorNotices>();
        // As the iLink channel words it when its session expires: the account, and the command to run on the server.
        notices.Add("微信 (iLink) ilink/shop-main: the session expired (errcode -14). Scan again: run `weseek login weixin --account shop-main`.");
        notices.AddForVisitors("当前模型是合成的随机权重模型，回答只是随机文字。");
        var (key, _) = await app.Services.GetRequiredService<WeSeek.Security.AdminKeys>().CreateAsync("ops", WeSeek.Security.AdminRole.Viewer, TestContext.Current.CancellationToken);
        using var visitor = TestHttp.CreateClient(WebChatEndToEndTests.BaseAddress(app));

        var visitorStatus = await visitor.GetFromJsonAsync<JsonElement>("/api/webchat/status", TestContext.Current.CancellationToken);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/admin/api/status");
        request.Headers.Authorization = new("Bearer", key);
        var consoleStatus = await (await visitor.SendAsync(request, TestContext.Current.CancellationToken)).Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);
        var forVisitor = string.Join("\n", visitorStatus.GetProperty("notices").EnumerateArray().Select(n => n.GetString()));
        var forConsole = string.Join("\n", consoleStatus.GetProperty("notices").EnumerateArray().Select(n => n.GetString()));

        Assert.DoesNotContain("shop-main", forVisitor, StringComparison.Ordinal);
        Assert.DoesNotContain("weseek login", forVisitor, StringComparison.Ordinal);
        Assert.Contains("随机权重", forVisitor, StringComparison.Ordinal);
        Assert.Contains("shop-main", forConsole, StringComparison.Ordinal);
        Assert.Contains("随机权重", forConsole, StringComparison.Ordinal);
    }

    [Fact]
    public async Task VisitorCookie_IsNeverStored_SoTheConsolesChatListAndTheDatabaseFileCannotOpenAVisitorsChats()
    {
        using var data = new TempDirectory();
        await using var app = await WebChatEndToEndTests.StartAsync(data, services =>
        {
            services.RemoveAll<IChatClient>();
            services.AddChatClient(ScriptedChatClient.Echo()).UseReasoningSplit();
        });
        using var alice = TestHttp.CreateClient(WebChatEndToEndTests.BaseAddress(app));
        var cookie = Assert.Single((await alice.GetAsync("/", TestContext.Current.CancellationToken)).Headers.GetValues("Set-Cookie"), c => c.StartsWith("weseek_visitor=", StringComparison.Ordinal));
        var visitor = cookie["weseek_visitor=".Length..cookie.IndexOf(';', StringComparison.Ordinal)];
        Assert.Equal(HttpStatusCode.Accepted, (await WebChatEndToEndTests.PostAsync(alice, "alice-chat", "m-1", "我的体检报告")).StatusCode);
        await WebChatEndToEndTests.WaitForRepliesAsync(alice, "alice-chat", 1);
        var (key, _) = await app.Services.GetRequiredService<WeSeek.Security.AdminKeys>().CreateAsync("watcher", WeSeek.Security.AdminRole.Viewer, TestContext.Current.CancellationToken);

        using var request = new HttpRequestMessage(HttpMethod.Get, "/admin/api/conversations");
        request.Headers.Authorization = new("Bearer", key);
        var listed = await (await alice.SendAsync(request, TestContext.Current.CancellationToken)).Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        await app.StopAsync(TestContext.Current.CancellationToken);
        var raw = string.Concat(Directory.GetFiles(data.Path, "*.db*").Select(f => System.Text.Encoding.Latin1.GetString(File.ReadAllBytes(f))));

        Assert.Matches("^[0-9a-f]{32}$", visitor);
        Assert.Contains(".alice-chat", listed, StringComparison.Ordinal); // The chat is listed, under a stored id ...
        Assert.DoesNotContain(visitor, listed, StringComparison.Ordinal); // ... that does not hold the cookie.
        Assert.DoesNotContain(visitor, raw, StringComparison.Ordinal);
    }
}
