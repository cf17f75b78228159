using System.Diagnostics;
using Microsoft.Data.Sqlite;
using WeSeek.Host.Tests.WebChat;
using WeSeek.TestKit;

namespace WeSeek.Host.Tests.Durability;

/// <summary>
/// The product's first rule, tested on the real executable: a message acknowledged is stored, and after a
/// crash (SIGKILL, no shutdown code runs) and a restart it is answered exactly once.
/// </summary>
public sealed class CrashRestartTests
{
    [Fact]
    public async Task Weseek_KilledMidTurnsAndRestarted_AnswersEveryAcceptedMessageExactlyOnce()
    {
        using var data = new TempDirectory();
        await using var model = await FakeOpenAiServer.StartAsync();
        // Slow answers (about a second each), so the kill lands while turns are running.
        model.ChunkDelay = TimeSpan.FromMilliseconds(150);
        model.Script = messages => ["<think>\n", "想", "一想\n</think>\n\n", "回答", "：", ScriptedChatClient.UserText(messages[^1].Content)];

        var chats = new[] { "c-a", "c-b", "c-c" };
        var sent = new List<(string Chat, string Text)>();
        var port = TestHttp.FreePort();
        // One browser across the restart: the web chat shows a visitor only the chats its cookie started.
        var browser = new System.Net.CookieContainer();
        using (var first = StartWeseek(data.Path, model.BaseUrl, port))
        {
            using var http = TestHttp.CreateClient(new Uri($"http://127.0.0.1:{port}"), browser);
            await WaitForHealthAsync(http, first);
            for (var i = 0; i < 12; i++)
            {
                var chat = chats[i % chats.Length];
                var text = $"Q{i}";
                var response = await WebChatEndToEndTests.PostAsync(http, chat, $"m-{i}", text);
                Assert.Equal(System.Net.HttpStatusCode.Accepted, response.StatusCode);
                sent.Add((chat, text));
            }

            // Kill once some, not all, answers are out: turns are mid-flight and replies are queued.
            await WebChatEndToEndTests.WaitForRepliesAsync(http, "c-a", 1);
            first.Kill(entireProcessTree: true);
            await first.WaitForExitAsync();
        }

        var repliedBeforeRestart = CountRows(data.Path, "SELECT COUNT(*) FROM outbox WHERE state = 'sent'");
        Assert.InRange(repliedBeforeRestart, 1, sent.Count - 1);

        using var second = StartWeseek(data.Path, model.BaseUrl, port);
        try
        {
            using var http = TestHttp.CreateClient(new Uri($"http://127.0.0.1:{port}"), browser);
            await WaitForHealthAsync(http, second);
            foreach (var chat in chats)
            {
                var expected = sent.Count(s => s.Chat == chat);
                var history = await WebChatEndToEndTests.WaitForRepliesAsync(http, chat, expected);
                var users = history.Where(h => h.GetProperty("fromUser").GetBoolean()).ToList();
                var replies = history.Where(h => !h.GetProperty("fromUser").GetBoolean()).ToList();
                Assert.Equal(sent.Where(s => s.Chat == chat).Select(s => s.Text), users.Select(u => u.GetProperty("text").GetString()));
                Assert.Equal(expected, replies.Count);
                foreach (var user in users)
                {
                    var answer = Assert.Single(replies, r => r.GetProperty("inboxId").GetInt64() == user.GetProperty("id").GetInt64());
                    Assert.Equal("回答：" + user.GetProperty("text").GetString(), answer.GetProperty("text").GetString());
                }
            }
        }
        finally
        {
            second.Kill(entireProcessTree: true);
            await second.WaitForExitAsync();
        }

        Assert.Equal(sent.Count, CountRows(data.Path, "SELECT COUNT(*) FROM outbox"));
        Assert.Equal(sent.Count, CountRows(data.Path, "SELECT COUNT(*) FROM outbox WHERE state = 'sent'"));
        Assert.Equal(sent.Count, CountRows(data.Path, "SELECT COUNT(*) FROM inbox WHERE state = 'done'"));
    }

    private static Process StartWeseek(string dataDirectory, Uri modelUrl, int port)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[]
        {
            Path.Combine(AppContext.BaseDirectory, "weseek.dll"), "serve", "--urls", $"http://127.0.0.1:{port}",
            $"--Storage:DataDirectory={dataDirectory}", "--Model:Provider=remote", $"--Model:Remote:BaseUrl={modelUrl}",
            "--Outbox:PollInterval=00:00:00.100", "--Dispatcher:MaxConcurrentTurns=2",
        })
        {
            start.ArgumentList.Add(arg);
        }

        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static async Task WaitForHealthAsync(HttpClient http, Process process)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (true)
        {
            Assert.False(process.HasExited, $"weseek exited with code {(process.HasExited ? process.ExitCode : 0)} before it was healthy.");
            try
            {
                using var response = await http.GetAsync("/health/ready", timeout.Token);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            await Task.Delay(100, timeout.Token);
        }
    }

    private static long CountRows(string dataDirectory, string sql)
    {
        using var connection = new SqliteConnection($"Data Source={Path.Combine(dataDirectory, "weseek.db")};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return (long)command.ExecuteScalar()!;
    }
}
