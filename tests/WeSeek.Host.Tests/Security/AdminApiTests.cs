using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using WeSeek.Host.Tests.WebChat;
using WeSeek.Security;
using WeSeek.TestKit;

namespace WeSeek.Host.Tests.Security;

/// <summary>The admin API over real HTTP: keys required by default, stored as hashes, revocable; changes audited.</summary>
public sealed class AdminApiTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task NoKeyYet_401_TellsHowToCreateOne()
    {
        using var data = new TempDirectory();
        await using var app = await WebChatEndToEndTests.StartAsync(data, null);
        using var http = TestHttp.CreateClient(WebChatEndToEndTests.BaseAddress(app));

        var response = await http.GetAsync("/admin/api/status", Ct);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("weseek admin key create", await response.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/admin", Ct)).StatusCode);
    }

    [Fact]
    public async Task Key_OpensTheApi_WrongAndRevokedKeysDoNot()
    {
        using var data = new TempDirectory();
        await using var app = await WebChatEndToEndTests.StartAsync(data, null);
        using var http = TestHttp.CreateClient(WebChatEndToEndTests.BaseAddress(app));
        var keys = app.Services.GetRequiredService<AdminKeys>();
        var (key, info) = await keys.CreateAsync("ops", Ct);

        using var ok = Request(HttpMethod.Get, "/admin/api/status", key);
        var status = await http.SendAsync(ok, Ct);
        using var wrong = Request(HttpMethod.Get, "/admin/api/status", key[..^2] + "xx");
        var refused = await http.SendAsync(wrong, Ct);
        await keys.RevokeAsync(info.Id, Ct);
        using var revoked = Request(HttpMethod.Get, "/admin/api/status", key);
        var afterRevoke = await http.SendAsync(revoked, Ct);

        Assert.Equal(HttpStatusCode.OK, status.StatusCode);
        var body = await status.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Contains("webchat", body.GetProperty("channels").EnumerateArray().Select(c => c.GetString()));
        Assert.Equal(JsonValueKind.Array, body.GetProperty("queues").ValueKind);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Contains("not valid or was revoked", await refused.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Unauthorized, afterRevoke.StatusCode);
        Assert.NotNull((await keys.ListAsync(Ct)).Single().LastUsedAt);
    }

    [Fact]
    public async Task Keys_AreStoredAsHashes_TheKeyIsNowhereInTheDatabase()
    {
        using var data = new TempDirectory();
        string key;
        await using (var app = await WebChatEndToEndTests.StartAsync(data, null))
        {
            (key, _) = await app.Services.GetRequiredService<AdminKeys>().CreateAsync("ops", Ct);
        }

        var raw = string.Concat(Directory.GetFiles(data.Path, "*.db*").Select(f => Encoding.Latin1.GetString(File.ReadAllBytes(f))));

        Assert.StartsWith(AdminKeys.KeyPrefix, key, StringComparison.Ordinal);
        Assert.DoesNotContain(key, raw, StringComparison.Ordinal);
        Assert.DoesNotContain(key[AdminKeys.KeyPrefix.Length..], raw, StringComparison.Ordinal);
        Assert.Contains(AdminKeys.Hash(key), raw, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PluginToggle_ByTheApi_IsAppliedAndAudited()
    {
        using var data = new TempDirectory();
        await using var app = await WebChatEndToEndTests.StartAsync(data, null);
        using var http = TestHttp.CreateClient(WebChatEndToEndTests.BaseAddress(app));
        var (key, _) = await app.Services.GetRequiredService<AdminKeys>().CreateAsync("alice", Ct);

        using var off = Request(HttpMethod.Put, "/admin/api/plugins/kb?chat=webchat/local/c1&enabled=false", key);
        var toggled = await http.SendAsync(off, Ct);
        using var list = Request(HttpMethod.Get, "/admin/api/plugins?chat=webchat/local/c1", key);
        var plugins = await (await http.SendAsync(list, Ct)).Content.ReadFromJsonAsync<JsonElement>(Ct);
        using var unknown = Request(HttpMethod.Put, "/admin/api/plugins/nope?chat=webchat/local/c1&enabled=false", key);
        var missing = await http.SendAsync(unknown, Ct);
        using var verify = Request(HttpMethod.Get, "/admin/api/audit/verify", key);
        var chain = await (await http.SendAsync(verify, Ct)).Content.ReadFromJsonAsync<JsonElement>(Ct);
        var audited = await app.Services.GetRequiredService<AuditLog>().LastDataAsync("admin.action", Ct);

        Assert.Equal(HttpStatusCode.OK, toggled.StatusCode);
        Assert.False(plugins.EnumerateArray().Single(p => p.GetProperty("name").GetString() == "kb").GetProperty("enabled").GetBoolean());
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.True(chain.GetProperty("isIntact").GetBoolean());
        Assert.NotNull(audited);
        Assert.Equal("alice", (string?)audited["key"]);
        Assert.Equal("PUT", (string?)audited["method"]);
        Assert.DoesNotContain(key, audited.ToJsonString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ViewerKey_IsRefusedTranscriptsAndChanges_With403NamingTheRoleNeeded_AndNothingIsChangedOrAudited()
    {
        using var data = new TempDirectory();
        await using var app = await WebChatEndToEndTests.StartAsync(data, null);
        using var http = TestHttp.CreateClient(WebChatEndToEndTests.BaseAddress(app));
        var keys = app.Services.GetRequiredService<AdminKeys>();
        var (viewer, _) = await keys.CreateAsync("watcher", AdminRole.Viewer, Ct);
        var audit = app.Services.GetRequiredService<AuditLog>();

        using var status = Request(HttpMethod.Get, "/admin/api/status", viewer);
        using var transcript = Request(HttpMethod.Get, "/admin/api/conversations/transcript?chat=webchat/local/c1", viewer);
        using var toggle = Request(HttpMethod.Put, "/admin/api/plugins/kb?chat=webchat/local/c1&enabled=false", viewer);
        using var create = Request(HttpMethod.Post, "/admin/api/keys", viewer);
        create.Content = JsonContent.Create(new { name = "sneaky", role = "admin" });
        var statusResponse = await http.SendAsync(status, Ct);
        var transcriptResponse = await http.SendAsync(transcript, Ct);
        var toggleResponse = await http.SendAsync(toggle, Ct);
        var createResponse = await http.SendAsync(create, Ct);

        Assert.Equal(HttpStatusCode.OK, statusResponse.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, transcriptResponse.StatusCode);
        Assert.Contains("This key is a viewer key; this needs an operator key", await transcriptResponse.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, toggleResponse.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, createResponse.StatusCode);
        Assert.Contains("needs an admin key", await createResponse.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        Assert.Null(await audit.LastDataAsync("admin.action", Ct));
        Assert.Null(await audit.LastDataAsync("admin.transcript.read", Ct));
        Assert.DoesNotContain(await keys.ListAsync(Ct), k => k.Name == "sneaky");
    }

    [Fact]
    public async Task TranscriptRead_ByAnOperator_ReturnsTheDecryptedMessagesAndIsAuditedWithTheKeysName()
    {
        using var data = new TempDirectory();
        await using var app = await WebChatEndToEndTests.StartAsync(data, services =>
        {
            services.RemoveAll<Microsoft.Extensions.AI.IChatClient>();
            services.AddChatClient(ScriptedChatClient.Echo()).UseReasoningSplit();
        });
        using var http = TestHttp.CreateClient(WebChatEndToEndTests.BaseAddress(app));
        (await http.GetAsync("/", Ct)).EnsureSuccessStatusCode();
        var posted = await WebChatEndToEndTests.PostAsync(http, "c-audit", "m-1", "机密问题");
        await WebChatEndToEndTests.WaitForRepliesAsync(http, "c-audit", 1);
        var inboxId = (await posted.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("inboxId").GetInt64();
        (await http.PostAsJsonAsync("/api/webchat/chats/c-audit/feedback", new { inboxId, kind = "down", correction = "更好的回答" }, Ct)).EnsureSuccessStatusCode();
        var (operatorKey, _) = await app.Services.GetRequiredService<AdminKeys>().CreateAsync("ops", AdminRole.Operator, Ct);

        using var list = Request(HttpMethod.Get, "/admin/api/conversations?q=c-audit", operatorKey);
        var chats = await (await http.SendAsync(list, Ct)).Content.ReadFromJsonAsync<JsonElement>(Ct);
        var chat = Assert.Single(chats.EnumerateArray()).GetProperty("chat").GetString()!;
        using var read = Request(HttpMethod.Get, "/admin/api/conversations/transcript?chat=" + Uri.EscapeDataString(chat), operatorKey);
        var transcript = await (await http.SendAsync(read, Ct)).Content.ReadFromJsonAsync<JsonElement>(Ct);
        var audited = await app.Services.GetRequiredService<AuditLog>().LastDataAsync("admin.transcript.read", Ct);

        Assert.EndsWith("c-audit", chat, StringComparison.Ordinal);
        Assert.Equal(["机密问题", "答：机密问题"], transcript.GetProperty("entries").EnumerateArray().Select(e => e.GetProperty("text").GetString()));
        // The user's rating of that answer is shown with the transcript, and counted in the read's audit record.
        var rating = Assert.Single(transcript.GetProperty("feedback").EnumerateArray());
        Assert.Equal("down", rating.GetProperty("kind").GetString());
        Assert.Equal("答：机密问题", rating.GetProperty("answer").GetString());
        Assert.Equal("更好的回答", rating.GetProperty("correction").GetString());
        Assert.NotNull(audited);
        Assert.Equal(1, (int?)audited["ratings"]);
        Assert.Equal("ops", (string?)audited["key"]);
        Assert.Equal(chat, (string?)audited["chat"]);
    }

    [Fact]
    public async Task RequireKeyOff_LeavesTheAllowListAlone()
    {
        using var data = new TempDirectory();
        await using var app = await WebChatEndToEndTests.StartAsync(data, null, "--Admin:RequireKey=false");
        using var http = TestHttp.CreateClient(WebChatEndToEndTests.BaseAddress(app));

        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/admin/api/status", Ct)).StatusCode);
    }

    [Fact]
    public async Task Cli_CreateListRevoke()
    {
        using var data = new TempDirectory();
        string[] storage = [$"--Storage:DataDirectory={data.Path}"];

        var created = await WeseekProcess.RunAsync(["admin", "key", "create", "--name", "ci", .. storage]);
        var listed = await WeseekProcess.RunAsync(["admin", "key", "list", .. storage]);
        var revoked = await WeseekProcess.RunAsync(["admin", "key", "revoke", "1", .. storage]);
        var again = await WeseekProcess.RunAsync(["admin", "key", "revoke", "1", .. storage]);

        Assert.Equal(0, created.ExitCode);
        var key = created.Output.Trim();
        Assert.Matches("^wsk_[A-Za-z0-9_-]{43}$", key);
        Assert.Equal(0, listed.ExitCode);
        Assert.Contains("ci", listed.Output, StringComparison.Ordinal);
        Assert.Contains(key[..10], listed.Output, StringComparison.Ordinal);
        Assert.DoesNotContain(key, listed.Output, StringComparison.Ordinal);
        Assert.Equal(0, revoked.ExitCode);
        Assert.Equal(1, again.ExitCode);
    }

    private static HttpRequestMessage Request(HttpMethod method, string path, string key)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new("Bearer", key);
        return request;
    }
}
