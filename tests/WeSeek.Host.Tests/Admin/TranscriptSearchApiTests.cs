using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using WeSeek.Host.Tests.WebChat;
using WeSeek.Security;
using WeSeek.Storage.Sql;
using WeSeek.TestKit;

namespace WeSeek.Host.Tests.Admin;

/// <summary>The console's text search in encrypted transcripts, over real HTTP and real SQLite.</summary>
public sealed class TranscriptSearchApiTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Search_ByAnOperator_FindsTheChatByWordsInItsMessagesAndReplies_AndIsAuditedWithTheChatsShown_AndAViewerIsRefused()
    {
        using var data = new TempDirectory();
        await using var app = await WebChatEndToEndTests.StartAsync(data, services =>
        {
            services.RemoveAll<IChatClient>();
            services.AddChatClient(ScriptedChatClient.Echo()).UseReasoningSplit();
        });
        using var http = TestHttp.CreateClient(WebChatEndToEndTests.BaseAddress(app));
        await WebChatEndToEndTests.PostAsync(http, "c-parcel", "m-1", "我的快递单号是 SF123，什么时候到？");
        await WebChatEndToEndTests.PostAsync(http, "c-other", "m-1", "随便聊聊");
        await WebChatEndToEndTests.WaitForRepliesAsync(http, "c-parcel", 1);
        await WebChatEndToEndTests.WaitForRepliesAsync(http, "c-other", 1);
        var keys = app.Services.GetRequiredService<AdminKeys>();
        var (operatorKey, _) = await keys.CreateAsync("ops", AdminRole.Operator, Ct);
        var (viewerKey, _) = await keys.CreateAsync("watcher", AdminRole.Viewer, Ct);

        var found = await GetAsync(http, "/admin/api/conversations/search?text=sf123&days=7", operatorKey);
        var body = await found.Content.ReadFromJsonAsync<JsonElement>(Ct);
        var nothing = await (await GetAsync(http, "/admin/api/conversations/search?text=" + Uri.EscapeDataString("没人说过"), operatorKey)).Content.ReadFromJsonAsync<JsonElement>(Ct);
        var byViewer = await GetAsync(http, "/admin/api/conversations/search?text=sf123", viewerKey);
        var empty = await GetAsync(http, "/admin/api/conversations/search?text=%20", operatorKey);
        var tooFar = await GetAsync(http, "/admin/api/conversations/search?text=sf123&days=31", operatorKey);
        var audited = await app.Services.GetRequiredService<AuditLog>().LastDataAsync("admin.transcript.search", Ct);

        Assert.Equal(HttpStatusCode.OK, found.StatusCode);
        var chat = Assert.Single(body.GetProperty("chats").EnumerateArray());
        Assert.EndsWith("c-parcel", chat.GetProperty("chat").GetString(), StringComparison.Ordinal);
        var hits = chat.GetProperty("hits").EnumerateArray().ToList();
        Assert.Equal(2, hits.Count); // The question and the reply that echoes it, newest first.
        Assert.False(hits[0].GetProperty("fromUser").GetBoolean());
        Assert.True(hits[1].GetProperty("fromUser").GetBoolean());
        Assert.Contains("SF123", hits[1].GetProperty("snippet").GetString(), StringComparison.Ordinal);
        Assert.True(body.GetProperty("scanned").GetInt32() >= 4);
        Assert.False(body.GetProperty("truncated").GetBoolean());
        Assert.Empty(nothing.GetProperty("chats").EnumerateArray());
        Assert.Equal(HttpStatusCode.Forbidden, byViewer.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, empty.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, tooFar.StatusCode);
        // The last search found nothing; the one before it is the record with the chat shown.
        Assert.NotNull(audited);
        Assert.Equal("ops", (string?)audited["key"]);
        var records = await app.Services.GetRequiredService<ConsoleQueries>().AuditAsync("admin.transcript.search", null, 10, Ct);
        Assert.Equal(2, records.Count);
        Assert.Contains(records, r => r.Data?["chats"]?.AsArray().Select(c => (string?)c).SingleOrDefault() == chat.GetProperty("chat").GetString());
    }

    private static async Task<HttpResponseMessage> GetAsync(HttpClient http, string path, string key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new("Bearer", key);
        return await http.SendAsync(request, Ct);
    }
}
