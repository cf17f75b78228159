using System.Net;
using Microsoft.Data.Sqlite;
using WeSeek.Host.Tests.WebChat;
using WeSeek.TestKit;

namespace WeSeek.Host.Tests.Security;

/// <summary>Health endpoints, <c>weseek logs export</c> and <c>weseek audit verify</c> against a real served
/// data directory.</summary>
public sealed class SecurityEndToEndTests
{
    [Fact]
    public async Task Health_LiveAlways_ReadyOnlyWhileTheModelServerAnswers()
    {
        using var data = new TempDirectory();
        var server = await FakeOpenAiServer.StartAsync();
        await using var app = await WebChatEndToEndTests.StartAsync(data, null, $"--Model:Remote:BaseUrl={server.BaseUrl}");
        using var http = TestHttp.CreateClient(WebChatEndToEndTests.BaseAddress(app));
        var cancel = TestContext.Current.CancellationToken;

        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health/live", cancel)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health/ready", cancel)).StatusCode);

        await server.DisposeAsync();
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health/live", cancel)).StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await http.GetAsync("/health/ready", cancel)).StatusCode);
    }

    [Fact]
    public async Task LogsExportAndAuditVerify_OnAServedDataDirectory()
    {
        using var data = new TempDirectory();
        await using (var server = await FakeOpenAiServer.StartAsync())
        {
            server.Script = messages => ["<think>\n想\n</think>\n\n", "回答：", ScriptedChatClient.UserText(messages[^1].Content)];
            await using var app = await WebChatEndToEndTests.StartAsync(data, null, $"--Model:Remote:BaseUrl={server.BaseUrl}");
            using var http = TestHttp.CreateClient(WebChatEndToEndTests.BaseAddress(app));
            await WebChatEndToEndTests.PostAsync(http, "c-export", "m-1", "导出 pelican-404");
            await WebChatEndToEndTests.WaitForRepliesAsync(http, "c-export", 1);
            await app.StopAsync(TestContext.Current.CancellationToken);
        }

        var dataFlag = $"--Storage:DataDirectory={data.Path}";
        var (exitCode, output, error) = await WeseekProcess.RunAsync(["logs", "export", "--decrypt", dataFlag]);
        Assert.True(exitCode == 0, error);
        Assert.Contains("\"text\":\"导出 pelican-404\"", Unescape(output), StringComparison.Ordinal);
        Assert.Contains("\"text\":\"回答：导出 pelican-404\"", Unescape(output), StringComparison.Ordinal);

        (exitCode, output, error) = await WeseekProcess.RunAsync(["logs", "export", dataFlag]);
        Assert.True(exitCode == 0, error);
        Assert.Contains("\"direction\":\"in\"", output, StringComparison.Ordinal);
        Assert.DoesNotContain("pelican-404", Unescape(output), StringComparison.Ordinal);

        (exitCode, output, error) = await WeseekProcess.RunAsync(["audit", "verify", dataFlag]);
        Assert.True(exitCode == 0, error);
        Assert.Contains("intact", output, StringComparison.Ordinal);

        await using (var connection = new SqliteConnection($"Data Source={Path.Combine(data.Path, "weseek.db")};Pooling=False"))
        {
            await connection.OpenAsync(TestContext.Current.CancellationToken);
            await using var command = connection.CreateCommand();
            command.CommandText = "DROP TRIGGER audit_no_update; UPDATE audit SET data = replace(data, 'c-export', 'c-forged') WHERE kind = 'message.sent';";
            Assert.Equal(1, await command.ExecuteNonQueryAsync(TestContext.Current.CancellationToken));
        }

        (exitCode, _, error) = await WeseekProcess.RunAsync(["audit", "verify", dataFlag]);
        Assert.Equal(1, exitCode);
        Assert.Matches(@"broken at record \d+: record \d+ does not match its hash", error);
    }

    // System.Text.Json escapes non-ASCII by default; compare on the decoded text.
    private static string Unescape(string json) => System.Text.RegularExpressions.Regex.Unescape(json);
}
