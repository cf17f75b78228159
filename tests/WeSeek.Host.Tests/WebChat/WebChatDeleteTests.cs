using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using WeSeek.Security;
using WeSeek.TestKit;

namespace WeSeek.Host.Tests.WebChat;

/// <summary>Deleting a web chat erases it on the server, and only its own visitor can.</summary>
public sealed class WebChatDeleteTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static Task<WebApplication> StartAsync(TempDirectory data, ScriptedChatClient model) =>
        WebChatEndToEndTests.StartAsync(data, services =>
        {
            services.RemoveAll<IChatClient>();
            services.AddChatClient(model).UseReasoningSplit();
        });

    [Fact]
    public async Task SecondVisitor_DeletingTheFirstVisitorsChatId_IsRefused_AndTheChatIsUntouched()
    {
        using var data = new TempDirectory();
        await using var app = await StartAsync(data, ScriptedChatClient.Echo());
        using var alice = TestHttp.CreateClient(WebChatEndToEndTests.BaseAddress(app));
        using var mallory = TestHttp.CreateClient(WebChatEndToEndTests.BaseAddress(app));
        Assert.Equal(HttpStatusCode.Accepted, (await WebChatEndToEndTests.PostAsync(alice, "alice-chat", "m-1", "我的体检报告")).StatusCode);
        await WebChatEndToEndTests.WaitForRepliesAsync(alice, "alice-chat", 1);
        (await mallory.GetAsync("/", Ct)).EnsureSuccessStatusCode();
        var aliceVisitor = (await app.Services.GetRequiredService<WeSeek.Conversations.ITranscriptReader>().ListChatsAsync(WeSeek.Messaging.ChannelId.From("webchat"), 10, Ct)).Single().ChatId;

        // By the page's chat id (names Mallory's own, empty chat), and by the stored id with Alice's visitor in it.
        var byPageId = await mallory.DeleteAsync("/api/webchat/chats/alice-chat", Ct);
        var byStoredId = await mallory.DeleteAsync("/api/webchat/chats/" + Uri.EscapeDataString(aliceVisitor), Ct);

        Assert.Equal(HttpStatusCode.NotFound, byPageId.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, byStoredId.StatusCode);
        Assert.Equal(2, (await alice.GetFromJsonAsync<JsonElement[]>("/api/webchat/chats/alice-chat/messages", Ct))!.Length);
        Assert.Single((await alice.GetFromJsonAsync<JsonElement[]>("/api/webchat/chats", Ct))!);
        Assert.Null(await app.Services.GetRequiredService<AuditLog>().LastDataAsync("chat.erased", Ct));
    }

    [Fact]
    public async Task Delete_ErasesTheMessagesRepliesContextAndRatingsOnTheServer_IsAudited_AndTheChatStartsAfresh()
    {
        using var data = new TempDirectory();
        var model = ScriptedChatClient.Echo();
        await using var app = await StartAsync(data, model);
        using var alice = TestHttp.CreateClient(WebChatEndToEndTests.BaseAddress(app));
        var posted = await WebChatEndToEndTests.PostAsync(alice, "to-delete", "m-1", "我的地址是北京");
        await WebChatEndToEndTests.WaitForRepliesAsync(alice, "to-delete", 1);
        var inboxId = (await posted.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("inboxId").GetInt64();
        (await alice.PostAsJsonAsync("/api/webchat/chats/to-delete/feedback", new { inboxId, kind = "down", correction = "更好" }, Ct)).EnsureSuccessStatusCode();
        Assert.Equal(HttpStatusCode.Accepted, (await WebChatEndToEndTests.PostAsync(alice, "kept", "m-1", "另一个会话")).StatusCode);
        await WebChatEndToEndTests.WaitForRepliesAsync(alice, "kept", 1);

        var deleted = await alice.DeleteAsync("/api/webchat/chats/to-delete", Ct);
        var again = await alice.DeleteAsync("/api/webchat/chats/to-delete", Ct);

        Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
        Assert.Empty((await alice.GetFromJsonAsync<JsonElement[]>("/api/webchat/chats/to-delete/messages", Ct))!);
        Assert.Equal("kept", Assert.Single((await alice.GetFromJsonAsync<JsonElement[]>("/api/webchat/chats", Ct))!).GetProperty("chatId").GetString());
        Assert.Equal(2, (await alice.GetFromJsonAsync<JsonElement[]>("/api/webchat/chats/kept/messages", Ct))!.Length);
        var audited = await app.Services.GetRequiredService<AuditLog>().LastDataAsync("chat.erased", Ct);
        Assert.NotNull(audited);
        Assert.Equal(1, (long?)audited["messages"]);
        Assert.EndsWith(".to-delete", (string?)audited["chat"], StringComparison.Ordinal);
        // No row of the chat is left in any table that held it.
        await using (var db = new SqliteConnection($"Data Source={Path.Combine(data.Path, "weseek.db")}"))
        {
            await db.OpenAsync(Ct);
            foreach (var table in new[] { "inbox", "outbox", "feedback_answers" })
            {
                await using var count = db.CreateCommand();
                count.CommandText = $"SELECT COUNT(*) FROM {table} WHERE chat_id LIKE '%.to-delete';";
                Assert.Equal(0L, (long)(await count.ExecuteScalarAsync(Ct))!);
            }

            await using var rest = db.CreateCommand();
            rest.CommandText = "SELECT (SELECT COUNT(*) FROM history) + (SELECT COUNT(*) FROM feedback), (SELECT COUNT(*) FROM conversations WHERE key LIKE '%to-delete%');";
            await using var reader = await rest.ExecuteReaderAsync(Ct);
            await reader.ReadAsync(Ct);
            Assert.Equal(2L, reader.GetInt64(0)); // The kept chat's question and answer; the rating went with its chat.
            Assert.Equal(0L, reader.GetInt64(1));
        }

        // The same chat id again starts with no memory of what was said in it.
        Assert.Equal(HttpStatusCode.Accepted, (await WebChatEndToEndTests.PostAsync(alice, "to-delete", "m-2", "我住在哪里？")).StatusCode);
        await WebChatEndToEndTests.WaitForRepliesAsync(alice, "to-delete", 1);
        Assert.DoesNotContain(model.Calls[^1], m => m.Text.Contains("北京", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Delete_WhileTheChatIsStillBeingAnswered_IsRefusedWithTheReason_AndDeletesNothing()
    {
        using var data = new TempDirectory();
        var model = ScriptedChatClient.Echo();
        var answering = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        model.OnCall = async (_, cancellationToken) =>
        {
            answering.TrySetResult();
            await release.Task.WaitAsync(cancellationToken);
        };
        await using var app = await StartAsync(data, model);
        using var alice = TestHttp.CreateClient(WebChatEndToEndTests.BaseAddress(app));
        Assert.Equal(HttpStatusCode.Accepted, (await WebChatEndToEndTests.PostAsync(alice, "busy", "m-1", "慢慢想")).StatusCode);
        await answering.Task.WaitAsync(Ct);

        var refused = await alice.DeleteAsync("/api/webchat/chats/busy", Ct);
        release.SetResult();
        await WebChatEndToEndTests.WaitForRepliesAsync(alice, "busy", 1);
        var history = await alice.GetFromJsonAsync<JsonElement[]>("/api/webchat/chats/busy/messages", Ct);
        var deleted = await alice.DeleteAsync("/api/webchat/chats/busy", Ct);

        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Contains("still being answered", await refused.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        Assert.Equal(2, history!.Length);
        Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
    }
}
