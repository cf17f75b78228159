using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Json.Schema;
using WeSeek.TestKit;

namespace WeSeek.Host.Tests.WebChat;

/// <summary>
/// 👍/👎 from the web chat page's endpoint on a real serve (model: a fake OpenAI-compatible server on loopback), then
/// <c>weseek feedback export</c> on the real executable, each line checked against TRL's formats as docs/schemas
/// states them.
/// </summary>
public sealed class FeedbackEndToEndTests
{
    private const string Question = "我的手机号是 138 1234 5678，邮箱 zhang.san@example.com，身份证 11010519491231002X，微信号 zhangsan_88，请帮我查快递。";

    [Fact]
    public async Task WebChatRatings_ExportAsRedactedTrlData_ThatMatchesTheSchemas()
    {
        using var data = new TempDirectory();
        await using var server = await FakeOpenAiServer.StartAsync();
        server.Script = messages => ["<think>\n用户给了号码", "，我先想想\n</think>\n\n", "好的，查到了，", "快递明天到。"];
        long first, second;
        await using (var app = await WebChatEndToEndTests.StartAsync(data, null, $"--Model:Remote:BaseUrl={server.BaseUrl}"))
        {
            using var http = TestHttp.CreateClient(WebChatEndToEndTests.BaseAddress(app));
            using var stranger = TestHttp.CreateClient(WebChatEndToEndTests.BaseAddress(app));
            first = await AskAsync(http, "c-fb", "m-1", Question, 1);
            second = await AskAsync(http, "c-fb", "m-2", "谢谢，还有别的吗？", 2);

            var down = await RateAsync(http, "c-fb", first, "down", "更好的回答：请拨打 13912345678 联系快递员，不要在聊天里发身份证号。");
            var up = await RateAsync(http, "c-fb", second, "up", null);
            var strangers = await RateAsync(stranger, "c-fb", first, "up", null);
            var badKind = await RateAsync(http, "c-fb", first, "meh", null);
            var unknown = await RateAsync(http, "c-fb", 999_999, "up", null);
            var metrics = PrometheusText.Parse(await http.GetStringAsync("/metrics", TestContext.Current.CancellationToken));

            Assert.Equal(HttpStatusCode.OK, down.StatusCode);
            Assert.Equal(HttpStatusCode.OK, up.StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, strangers.StatusCode); // Another visitor's chat of the same name is not this one.
            Assert.Equal(HttpStatusCode.BadRequest, badKind.StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
            var problem = await badKind.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);
            Assert.Contains("\"up\" or \"down\"", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
            Assert.Contains(metrics, s => s.Name == "weseek_feedback_total" && s.Labels.GetValueOrDefault("kind") == "down" && s.Labels.GetValueOrDefault("correction") == "true" && s.Value == 1);
            Assert.Contains(metrics, s => s.Name == "weseek_feedback_total" && s.Labels.GetValueOrDefault("kind") == "up" && s.Value == 1);
            await app.StopAsync(TestContext.Current.CancellationToken);
        }

        string[] storage = [$"--Storage:DataDirectory={data.Path}"];
        var dpoFile = Path.Combine(data.Path, "dpo.jsonl");
        var dpo = await WeseekProcess.RunAsync(["feedback", "export", "--format", "dpo", "--since", "1d", "--out", dpoFile, .. storage]);
        var sft = await WeseekProcess.RunAsync(["feedback", "export", "--format", "sft", "--out", Path.Combine(data.Path, "sft.jsonl"), .. storage]);
        var kto = await WeseekProcess.RunAsync(["feedback", "export", "--format", "kto", "--out", Path.Combine(data.Path, "kto.jsonl"), .. storage]);
        Assert.True(dpo.ExitCode == 0, dpo.Output + dpo.Error);
        Assert.True(sft.ExitCode == 0 && kto.ExitCode == 0, sft.Error + kto.Error);

        var line = Assert.Single(await Lines("dpo.jsonl", "trl-dpo.schema.json"));
        TestContext.Current.SendDiagnosticMessage("Exported DPO line: " + line.GetRawText());
        var prompt = line.GetProperty("prompt").EnumerateArray().ToList();
        var asked = prompt[^1].GetProperty("content").GetString()!;
        Assert.Equal("user", prompt[^1].GetProperty("role").GetString());
        Assert.Contains("请帮我查快递", asked, StringComparison.Ordinal);
        Assert.Contains("[手机号]", asked, StringComparison.Ordinal);
        Assert.Contains("[邮箱]", asked, StringComparison.Ordinal);
        Assert.Contains("[身份证号]", asked, StringComparison.Ordinal);
        Assert.Contains("[微信号]", asked, StringComparison.Ordinal);
        Assert.Equal("更好的回答：请拨打 [手机号] 联系快递员，不要在聊天里发身份证号。", line.GetProperty("chosen")[0].GetProperty("content").GetString());
        Assert.Equal("好的，查到了，快递明天到。", line.GetProperty("rejected")[0].GetProperty("content").GetString()); // Never the reasoning.
        foreach (var secret in new[] { "1234 5678", "13912345678", "zhang.san", "11010519491231002X", "zhangsan_88", "用户给了号码" })
        {
            Assert.DoesNotContain(secret, line.GetRawText(), StringComparison.Ordinal);
        }

        var report = JsonDocument.Parse(await File.ReadAllTextAsync(dpoFile + ".report.json", TestContext.Current.CancellationToken)).RootElement;
        Assert.Equal(2, report.GetProperty("redacted").GetProperty("phone").GetInt32());
        Assert.Equal(1, report.GetProperty("redacted").GetProperty("email").GetInt32());
        Assert.Equal(1, report.GetProperty("skipped").EnumerateObject().Single().Value.GetInt32()); // The 👍: no pair.
        Assert.Contains("personal data taken out", dpo.Error, StringComparison.Ordinal);

        var sftLines = await Lines("sft.jsonl", "trl-sft.schema.json");
        var ktoLines = await Lines("kto.jsonl", "trl-kto.schema.json");
        Assert.Equal(2, sftLines.Count); // The correction and the 👍 answer.
        Assert.Equal([false, true, true], ktoLines.Select(l => l.GetProperty("label").GetBoolean()));
        Assert.Equal(3, ktoLines[2].GetProperty("prompt").GetArrayLength()); // The second question with the first turn in its window.

        async Task<List<JsonElement>> Lines(string file, string schemaFile)
        {
            var schema = JsonSchema.FromText(await File.ReadAllTextAsync(RepositoryFile("docs", "schemas", schemaFile), TestContext.Current.CancellationToken));
            var lines = new List<JsonElement>();
            foreach (var text in await File.ReadAllLinesAsync(Path.Combine(data.Path, file), TestContext.Current.CancellationToken))
            {
                var element = JsonDocument.Parse(text).RootElement;
                var result = schema.Evaluate(element, new EvaluationOptions { OutputFormat = OutputFormat.List });
                Assert.True(result.IsValid, $"{file} line does not match {schemaFile}: {string.Join("; ", (result.Details ?? []).Where(d => d.Errors is not null).SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation} {e.Value}")))}\n{text}");
                lines.Add(element);
            }

            return lines;
        }
    }

    [Fact]
    public async Task ExportWithoutRedaction_NeedsAValidAdminKey_AndSaysSoInOneLine()
    {
        using var data = new TempDirectory();
        string[] storage = [$"--Storage:DataDirectory={data.Path}"];
        var created = await WeseekProcess.RunAsync(["admin", "key", "create", "--name", "trainer", .. storage]);
        var key = created.Output.Trim();
        var file = Path.Combine(data.Path, "raw.jsonl");

        var noKey = await WeseekProcess.RunAsync(["feedback", "export", "--format", "sft", "--no-redact", "--out", file, .. storage]);
        var wrongKey = await WeseekProcess.RunAsync(["feedback", "export", "--format", "sft", "--no-redact", "--admin-key", "wsk_not-a-key", "--out", file, .. storage]);
        var badFormat = await WeseekProcess.RunAsync(["feedback", "export", "--format", "ppo", "--out", file, .. storage]);
        var badSince = await WeseekProcess.RunAsync(["feedback", "export", "--format", "sft", "--since", "last tuesday", "--out", file, .. storage]);
        var withKey = await WeseekProcess.RunAsync(["feedback", "export", "--format", "sft", "--no-redact", "--admin-key", key, "--out", file, .. storage]);

        Assert.Equal(0, created.ExitCode);
        Assert.Equal(2, noKey.ExitCode);
        Assert.Contains("needs an admin key", noKey.Error, StringComparison.Ordinal);
        Assert.Equal(2, wrongKey.ExitCode);
        Assert.Contains("not a valid admin key", wrongKey.Error, StringComparison.Ordinal);
        Assert.Equal(2, badFormat.ExitCode);
        Assert.Contains("--format must be dpo, sft or kto", badFormat.Error, StringComparison.Ordinal);
        Assert.Equal(2, badSince.ExitCode);
        Assert.All(new[] { noKey, wrongKey, badFormat, badSince }, r => Assert.Single(r.Error.Trim().Split('\n')));
        Assert.True(withKey.ExitCode == 0, withKey.Error);
        Assert.Contains("NOT redacted", withKey.Error, StringComparison.Ordinal);
    }

    private static async Task<long> AskAsync(HttpClient http, string chatId, string messageId, string text, int replies)
    {
        var posted = await WebChatEndToEndTests.PostAsync(http, chatId, messageId, text);
        Assert.Equal(HttpStatusCode.Accepted, posted.StatusCode);
        await WebChatEndToEndTests.WaitForRepliesAsync(http, chatId, replies);
        return (await posted.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken)).GetProperty("inboxId").GetInt64();
    }

    private static Task<HttpResponseMessage> RateAsync(HttpClient http, string chatId, long inboxId, string kind, string? correction) =>
        http.PostAsJsonAsync($"/api/webchat/chats/{chatId}/feedback", new { inboxId, kind, correction }, TestContext.Current.CancellationToken);

    private static string RepositoryFile(params string[] parts)
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "WeSeek.slnx")))
            {
                return Path.Combine([directory.FullName, .. parts]);
            }
        }

        throw new InvalidOperationException("The repository root (WeSeek.slnx) is not above " + AppContext.BaseDirectory);
    }
}
