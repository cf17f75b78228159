using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;

namespace WeSeek.Benchmarks;

/// <summary>
/// Users of the web chat page, as a browser makes them, against a running <c>weseek serve</c>: each user posts a
/// message, waits until the answer is in the chat's transcript, then posts the next. Counts turns answered with
/// the failure apology (<c>Dispatcher:FailureReply</c>) or not answered within the time limit; prints a table.
/// Each user has a cookie jar of its own, as a browser does.
/// </summary>
internal static class WebChatLoad
{
    public static async Task<int> RunAsync(Func<string, string, string> arg)
    {
        var url = arg("--url", "http://127.0.0.1:5000").TrimEnd('/') + "/";
        var users = int.Parse(arg("--users", "20"), CultureInfo.InvariantCulture);
        var messages = int.Parse(arg("--messages", "10"), CultureInfo.InvariantCulture);
        var limit = TimeSpan.FromSeconds(double.Parse(arg("--turn-limit-s", "600"), CultureInfo.InvariantCulture));
        var failureReply = arg("--failure-reply", "抱歉，我这边出了点问题");
        var output = arg("--out", "");
        var latencies = new List<double>();
        int answered = 0, apologies = 0, missing = 0;
        var gate = new Lock();
        var started = Stopwatch.GetTimestamp();
        await Task.WhenAll(Enumerable.Range(0, users).Select(async user =>
        {
            using var http = new HttpClient(new SocketsHttpHandler { CookieContainer = new CookieContainer() }, disposeHandler: true) { BaseAddress = new Uri(url), Timeout = TimeSpan.FromMinutes(5) };
            var chatId = $"load-{user:D3}-{Guid.NewGuid():N}"[..32];
            for (var i = 1; i <= messages; i++)
            {
                var sent = Stopwatch.GetTimestamp();
                var post = await http.PostAsJsonAsync("api/webchat/messages", new { chatId, clientMessageId = $"{chatId}-{i}", text = $"第{i}个问题：周末去{(user % 3 == 0 ? "西湖" : "长城")}玩，有什么建议？" });
                if (!post.IsSuccessStatusCode)
                {
                    Console.Error.WriteLine($"user {user} message {i}: HTTP {(int)post.StatusCode} {await post.Content.ReadAsStringAsync()}");
                    lock (gate)
                    {
                        missing++;
                    }

                    continue;
                }

                var reply = await WaitForReplyAsync(http, chatId, i, limit);
                var elapsed = Stopwatch.GetElapsedTime(sent).TotalMilliseconds;
                lock (gate)
                {
                    if (reply is null)
                    {
                        missing++;
                    }
                    else if (reply.Contains(failureReply, StringComparison.Ordinal))
                    {
                        apologies++;
                    }
                    else
                    {
                        answered++;
                        latencies.Add(elapsed);
                    }
                }
            }
        }));
        var total = Stopwatch.GetElapsedTime(started);
        latencies.Sort();
        double P(double p) => latencies.Count == 0 ? double.NaN : latencies[Math.Clamp((int)Math.Ceiling(p * latencies.Count) - 1, 0, latencies.Count - 1)];
        var table = string.Create(CultureInfo.InvariantCulture, $"""
            web chat through `weseek serve`: {users} users × {messages} messages, each user waiting for each answer.

            | turns | answered | failure apology | not answered | minutes to drain | answer p50 s | answer p99 s |
            |---|---|---|---|---|---|---|
            | {users * messages} | {answered} | {apologies} | {missing} | {total.TotalMinutes:F1} | {P(0.5) / 1000:F1} | {P(0.99) / 1000:F1} |

            """);
        Console.WriteLine(table);
        if (output.Length > 0)
        {
            await File.AppendAllTextAsync(output, table + Environment.NewLine);
        }

        return apologies + missing == 0 ? 0 : 1;
    }

    /// <summary>The transcript's answer to the user's <paramref name="index"/>-th message, once it is there.</summary>
    private static async Task<string?> WaitForReplyAsync(HttpClient http, string chatId, int index, TimeSpan limit)
    {
        var started = Stopwatch.GetTimestamp();
        while (Stopwatch.GetElapsedTime(started) < limit)
        {
            using var response = await http.GetAsync($"api/webchat/chats/{chatId}/messages");
            if (response.IsSuccessStatusCode)
            {
                using var transcript = JsonDocument.Parse(await response.Content.ReadAsStreamAsync());
                var replies = transcript.RootElement.EnumerateArray().Where(e => !e.GetProperty("fromUser").GetBoolean()).ToList();
                var asked = transcript.RootElement.EnumerateArray().Count(e => e.GetProperty("fromUser").GetBoolean());
                if (asked >= index && replies.Count >= index)
                {
                    return string.Concat(replies.Skip(index - 1).Select(r => r.GetProperty("text").GetString()));
                }
            }

            await Task.Delay(250);
        }

        return null;
    }
}
