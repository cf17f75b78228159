using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using WeSeek.Host.Tests.WebChat;
using WeSeek.Inference.Llama.Engine;
using WeSeek.Inference.Llama.Models;
using WeSeek.Security;
using WeSeek.TestKit;

namespace WeSeek.Host.Tests.Admin;

/// <summary>The console's model switch over real HTTP, on a real serve with real llama.cpp and synthesised models.</summary>
public sealed class ModelSwitchApiTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Switch_ByAnAdmin_AnswersEveryMessageSentAroundIt_IsAuditedWithTheKeysName_AndABadFileOrALowerRoleChangesNothing()
    {
        using var data = new TempDirectory();
        var started = Path.Combine(data.Path, "tiny.gguf");
        ModelSynthesizer.Write(started, ModelShape.Tiny);
        ModelSynthesizer.Write(Path.Combine(data.Path, "models", "second.gguf"), ModelShape.Tiny, seed: 9);
        await File.WriteAllTextAsync(Path.Combine(data.Path, "models", "broken.gguf"), "not a model", Ct);
        await using var app = await WebChatEndToEndTests.StartAsync(data, null, "--Model:Provider=llama", $"--Model:Llama:ModelPath={started}", "--Model:MaxOutputTokens=24");
        var host = app.Services.GetRequiredService<LlamaEngineHost>();
        var keys = app.Services.GetRequiredService<AdminKeys>();
        var (adminKey, _) = await keys.CreateAsync("root", AdminRole.Admin, Ct);
        var (operatorKey, _) = await keys.CreateAsync("ops", AdminRole.Operator, Ct);
        using var http = TestHttp.CreateClient(WebChatEndToEndTests.BaseAddress(app));
        (await http.GetAsync("/", Ct)).EnsureSuccessStatusCode();

        // Messages in the inbox or in the engine while the model changes.
        for (var i = 0; i < 4; i++)
        {
            Assert.Equal(HttpStatusCode.Accepted, (await WebChatEndToEndTests.PostAsync(http, $"c-{i}", "m-1", $"问题{i}")).StatusCode);
        }

        var byOperator = await SwitchAsync(http, operatorKey, "second");
        var switched = await SwitchAsync(http, adminKey, "second");
        var switchedBody = await switched.Content.ReadFromJsonAsync<JsonElement>(Ct);
        for (var i = 4; i < 6; i++)
        {
            Assert.Equal(HttpStatusCode.Accepted, (await WebChatEndToEndTests.PostAsync(http, $"c-{i}", "m-1", $"问题{i}")).StatusCode);
        }

        for (var i = 0; i < 6; i++)
        {
            var history = await WebChatEndToEndTests.WaitForRepliesAsync(http, $"c-{i}", 1);
            Assert.Single(history, h => !h.GetProperty("fromUser").GetBoolean());
        }

        var broken = await SwitchAsync(http, adminKey, "broken");
        var brokenBody = await broken.Content.ReadFromJsonAsync<JsonElement>(Ct);
        var outside = await SwitchAsync(http, adminKey, "../tiny");
        using var model = Request(HttpMethod.Get, "/admin/api/model", adminKey);
        var page = await (await http.SendAsync(model, Ct)).Content.ReadFromJsonAsync<JsonElement>(Ct);
        var audit = app.Services.GetRequiredService<AuditLog>();
        var record = await audit.LastDataAsync("admin.model.switched", Ct);
        var refusal = await audit.LastDataAsync("admin.model.switch.refused", Ct);

        Assert.Equal(HttpStatusCode.Forbidden, byOperator.StatusCode);
        Assert.Equal(HttpStatusCode.OK, switched.StatusCode);
        Assert.Equal("tiny", switchedBody.GetProperty("from").GetString());
        Assert.Equal("second", switchedBody.GetProperty("to").GetString());
        Assert.Equal(HttpStatusCode.UnprocessableEntity, broken.StatusCode);
        Assert.Contains("The model second still serves.", brokenBody.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, outside.StatusCode);
        Assert.Equal("second", host.ModelId);
        Assert.Equal("second", page.GetProperty("loaded").GetProperty("id").GetString());
        Assert.Equal("tiny", page.GetProperty("startedWith").GetProperty("name").GetString());
        Assert.NotNull(record);
        Assert.Equal("root", (string?)record["key"]);
        Assert.Equal(started, (string?)record["from"]);
        Assert.EndsWith("second.gguf", (string?)record["to"], StringComparison.Ordinal);
        Assert.NotNull(refusal);
        Assert.EndsWith("broken.gguf", (string?)refusal["to"], StringComparison.Ordinal);
        await app.StopAsync(Ct);
    }

    private static async Task<HttpResponseMessage> SwitchAsync(HttpClient http, string key, string name)
    {
        using var request = Request(HttpMethod.Post, "/admin/api/model/switch", key);
        request.Content = JsonContent.Create(new { name });
        return await http.SendAsync(request, Ct);
    }

    private static HttpRequestMessage Request(HttpMethod method, string path, string key)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new("Bearer", key);
        return request;
    }
}
