using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace WeSeek.Benchmarks;

/// <summary>
/// A load client for OpenAI-compatible servers, run against llama-server and <c>weseek model serve</c> one after
/// the other on the same model, context and slots, so that the table compares them side by side. Two loads, as
/// users make them: <b>interleaved</b> (many users taking turns one request at a time, each history growing; time
/// to first token per turn) and <b>concurrent</b> (users all at once, several turns each; aggregate tokens per
/// second and TTFT p50/p99 per turn). Every request streams; TTFT is the first chunk, which both servers send when
/// the first token is sampled (a synthesised model's random bytes are often no text yet). Each
/// user's id is sent as <c>user</c> (ignored by llama-server, which picks slots by prefix; WeSeek keeps caches by
/// it), unless <c>--ids off</c>.
/// </summary>
/// <remarks>
/// Both servers see identical requests: one shared system prompt, each user's own questions, and the text each
/// server generated as the assistant's turn (reasoning included: a synthesised model never closes its think
/// block, and the history should grow as a real chat's does). Sampling is fixed (temperature 0.6, top-p 0.95,
/// top-k 40, a seed per request) and answers run to <c>max_tokens</c>.
/// </remarks>
internal static class ServeLoad
{
    private const string SystemPrompt = "你是微信里的智能助手，回答要准确、简洁、有礼貌。You are a helpful assistant inside WeChat; answer accurately and briefly.";

    public static async Task<int> RunAsync(Func<string, string, string> arg)
    {
        var servers = arg("--servers", "").Split(',', StringSplitOptions.RemoveEmptyEntries)
            .Select(s => s.Split('=', 2)).Select(p => (Name: p[0], Url: p[1].TrimEnd('/'))).ToList();
        if (servers.Count == 0)
        {
            Console.Error.WriteLine("--servers name=http://host:port[,name=http://…]: the OpenAI-compatible servers to load, in order.");
            return 2;
        }

        var load = arg("--load", "interleaved");
        var users = int.Parse(arg("--users", load == "interleaved" ? "16" : "8"), CultureInfo.InvariantCulture);
        var turns = int.Parse(arg("--turns", load == "interleaved" ? "6" : "2"), CultureInfo.InvariantCulture);
        var tokens = int.Parse(arg("--tokens", "32"), CultureInfo.InvariantCulture);
        var ids = arg("--ids", "on") == "on";
        var output = arg("--out", "");
        var results = new List<(string Name, LoadResult Result)>();
        foreach (var (name, url) in servers)
        {
            using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 1024 }, disposeHandler: true) { BaseAddress = new Uri(url + "/"), Timeout = TimeSpan.FromMinutes(30) };
            await WaitReadyAsync(http);
            await WarmAsync(http, tokens);
            Console.Error.WriteLine($"{name}: {load}, {users} users × {turns} turns × {tokens} tokens, ids {(ids ? "on" : "off")}");
            var result = load == "interleaved"
                ? await InterleavedAsync(http, users, turns, tokens, ids)
                : await ConcurrentAsync(http, users, turns, tokens, ids);
            results.Add((name, result));
            Console.Error.WriteLine($"{name}: {result.Failed} failed, {result.Tokens} tokens in {result.Elapsed.TotalSeconds:F1} s");
        }

        var table = Table(load, users, turns, tokens, ids, results);
        Console.WriteLine(table);
        if (output.Length > 0)
        {
            await File.AppendAllTextAsync(output, table + Environment.NewLine);
        }

        return results.Any(r => r.Result.Failed > 0) ? 1 : 0;
    }

    private static string Table(string load, int users, int turns, int tokens, bool ids, List<(string Name, LoadResult Result)> results)
    {
        var table = new StringBuilder()
            .AppendLine(CultureInfo.InvariantCulture, $"{load}: {users} users × {turns} turns, {tokens} tokens an answer, user ids {(ids ? "sent" : "not sent")}; TTFT in ms.")
            .AppendLine();
        var names = results.Select(r => r.Name).ToList();
        var baseline = results[0].Result;
        table.Append("| turn |");
        foreach (var name in names)
        {
            table.Append(CultureInfo.InvariantCulture, $" {name} TTFT p50 | {name} p99 |");
        }

        foreach (var name in names.Skip(1))
        {
            table.Append(CultureInfo.InvariantCulture, $" {name} / {names[0]} p50 |");
        }

        foreach (var name in names)
        {
            table.Append(CultureInfo.InvariantCulture, $" {name} prompt cached |");
        }

        table.AppendLine().Append("|---|").AppendLine(string.Concat(Enumerable.Repeat("---|", names.Count * 3 + names.Count - 1)));
        for (var turn = 1; turn <= turns; turn++)
        {
            table.Append(CultureInfo.InvariantCulture, $"| {turn} |");
            foreach (var (_, result) in results)
            {
                table.Append(CultureInfo.InvariantCulture, $" {Percentile(result.Ttft[turn], 0.5):F0} | {Percentile(result.Ttft[turn], 0.99):F0} |");
            }

            foreach (var (_, result) in results.Skip(1))
            {
                table.Append(CultureInfo.InvariantCulture, $" {Percentile(result.Ttft[turn], 0.5) / Percentile(baseline.Ttft[turn], 0.5):F2}× |");
            }

            foreach (var (_, result) in results)
            {
                table.Append(CultureInfo.InvariantCulture, $" {result.CachedShare(turn)} |");
            }

            table.AppendLine();
        }

        table.AppendLine().Append("| server | tokens | seconds | aggregate tok/s | TTFT p50 all | TTFT p99 all | failed |").AppendLine().AppendLine("|---|---|---|---|---|---|---|");
        foreach (var (name, result) in results)
        {
            var all = result.Ttft.Values.SelectMany(v => v).ToList();
            table.AppendLine(CultureInfo.InvariantCulture,
                $"| {name} | {result.Tokens} | {result.Elapsed.TotalSeconds:F1} | {result.Tokens / result.Elapsed.TotalSeconds:F1} ({result.Tokens / result.Elapsed.TotalSeconds / (baseline.Tokens / baseline.Elapsed.TotalSeconds):F2}×) | {Percentile(all, 0.5):F0} | {Percentile(all, 0.99):F0} | {result.Failed} |");
        }

        return table.ToString();
    }

    private static double Percentile(List<double> values, double p)
    {
        if (values.Count == 0)
        {
            return double.NaN;
        }

        var sorted = values.Order().ToList();
        return sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Count) - 1, 0, sorted.Count - 1)];
    }

    /// <summary>Users take turns one request at a time: turn 1 of every user, then turn 2 of every user, ….</summary>
    private static async Task<LoadResult> InterleavedAsync(HttpClient http, int users, int turns, int tokens, bool ids)
    {
        var result = new LoadResult(turns);
        var histories = Enumerable.Range(0, users).Select(_ => new List<JsonObject>()).ToList();
        var started = Stopwatch.GetTimestamp();
        for (var turn = 1; turn <= turns; turn++)
        {
            for (var user = 0; user < users; user++)
            {
                await TurnAsync(http, result, histories[user], user, turn, tokens, ids);
            }
        }

        result.Elapsed = Stopwatch.GetElapsedTime(started);
        return result;
    }

    /// <summary>Every user at once, each taking its turns back to back.</summary>
    private static async Task<LoadResult> ConcurrentAsync(HttpClient http, int users, int turns, int tokens, bool ids)
    {
        var result = new LoadResult(turns);
        var started = Stopwatch.GetTimestamp();
        await Task.WhenAll(Enumerable.Range(0, users).Select(async user =>
        {
            var history = new List<JsonObject>();
            for (var turn = 1; turn <= turns; turn++)
            {
                await TurnAsync(http, result, history, user, turn, tokens, ids);
            }
        }));
        result.Elapsed = Stopwatch.GetElapsedTime(started);
        return result;
    }

    private static async Task TurnAsync(HttpClient http, LoadResult result, List<JsonObject> history, int user, int turn, int tokens, bool ids)
    {
        history.Add(new JsonObject { ["role"] = "user", ["content"] = Question(user, turn) });
        var messages = new JsonArray(new JsonObject { ["role"] = "system", ["content"] = SystemPrompt });
        foreach (var message in history)
        {
            messages.Add(message.DeepClone());
        }

        var body = new JsonObject
        {
            ["model"] = "m",
            ["messages"] = messages,
            ["stream"] = true,
            ["max_tokens"] = tokens,
            ["temperature"] = 0.6,
            ["top_p"] = 0.95,
            ["top_k"] = 40,
            ["seed"] = user * 1000 + turn,
            ["stream_options"] = new JsonObject { ["include_usage"] = true },
        };
        if (ids)
        {
            body["user"] = $"user-{user:D3}";
        }

        var started = Stopwatch.GetTimestamp();
        double? ttft = null;
        var text = new StringBuilder();
        var generated = 0;
        int prompt = 0, cached = 0;
        try
        {
            using var response = await SendAsync(http, body);
            if (!response.IsSuccessStatusCode)
            {
                Console.Error.WriteLine($"user {user} turn {turn}: HTTP {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                result.Fail();
                history.Add(new JsonObject { ["role"] = "assistant", ["content"] = "" });
                return;
            }

            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
            while (await reader.ReadLineAsync() is { } line)
            {
                if (!line.StartsWith("data: ", StringComparison.Ordinal) || line == "data: [DONE]")
                {
                    continue;
                }

                // The first chunk (the role, sent when the first token is sampled) marks the time to first token: a
                // synthesised model's random bytes are often not yet valid text.
                ttft ??= Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                using var chunk = JsonDocument.Parse(line.AsMemory(6));
                if (chunk.RootElement.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object)
                {
                    generated = usage.GetProperty("completion_tokens").GetInt32();
                    prompt = usage.GetProperty("prompt_tokens").GetInt32();
                    cached = usage.TryGetProperty("prompt_tokens_details", out var details) && details.TryGetProperty("cached_tokens", out var c) ? c.GetInt32() : 0;
                }

                if (chunk.RootElement.TryGetProperty("choices", out var choices) && choices.GetArrayLength() > 0
                    && choices[0].TryGetProperty("delta", out var delta))
                {
                    foreach (var field in (ReadOnlySpan<string>)["reasoning_content", "content"])
                    {
                        if (delta.TryGetProperty(field, out var piece) && piece.ValueKind == JsonValueKind.String && piece.GetString() is { Length: > 0 } value)
                        {
                            text.Append(value);
                        }
                    }
                }
            }
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or JsonException or TaskCanceledException)
        {
            Console.Error.WriteLine($"user {user} turn {turn}: {ex.Message}");
            ttft = null; // Counted once, below.
        }

        if (ttft is { } first)
        {
            result.Add(turn, first, generated, prompt, cached);
        }
        else
        {
            result.Fail();
        }

        history.Add(new JsonObject { ["role"] = "assistant", ["content"] = text.ToString().Replace("<think>", "", StringComparison.Ordinal).Replace("</think>", "", StringComparison.Ordinal) });
    }

    /// <summary>Sends, retrying once a connection the server closed while it sat idle in the pool (nothing was sent).</summary>
    private static async Task<HttpResponseMessage> SendAsync(HttpClient http, JsonObject body)
    {
        for (var attempt = 1; ; attempt++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions") { Content = JsonContent.Create(body) };
            try
            {
                return await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            }
            catch (HttpRequestException ex) when (attempt == 1 && ex.InnerException is IOException or System.Net.Sockets.SocketException)
            {
            }
        }
    }

    private static string Question(int user, int turn) =>
        $"用户{user}的第{turn}个问题：明天去{(user % 4) switch { 0 => "北京", 1 => "上海", 2 => "杭州", _ => "成都" }}出差，需要带些什么？Please list what to pack for day {turn}.";

    private static async Task WaitReadyAsync(HttpClient http)
    {
        for (var i = 0; i < 600; i++)
        {
            try
            {
                using var response = await http.GetAsync("health");
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(500);
        }

        throw new TimeoutException($"{http.BaseAddress} did not answer /health within 5 minutes.");
    }

    /// <summary>One request first, so neither server's first-request costs (graph building, page faults) land in the table.</summary>
    private static async Task WarmAsync(HttpClient http, int tokens)
    {
        var warm = new LoadResult(1);
        await TurnAsync(http, warm, [], 999, 1, Math.Min(tokens, 8), ids: false);
    }

    private sealed class LoadResult(int turns)
    {
        private readonly Lock _lock = new();

        public Dictionary<int, List<double>> Ttft { get; } = Enumerable.Range(1, turns).ToDictionary(t => t, _ => new List<double>());

        public long Tokens { get; private set; }

        public int Failed { get; private set; }

        public TimeSpan Elapsed { get; set; }

        public Dictionary<int, (long Prompt, long Cached)> Prompts { get; } = Enumerable.Range(1, turns).ToDictionary(t => t, _ => (0L, 0L));

        public void Add(int turn, double ttft, int tokens, int prompt, int cached)
        {
            lock (_lock)
            {
                Ttft[turn].Add(ttft);
                Tokens += tokens;
                Prompts[turn] = (Prompts[turn].Prompt + prompt, Prompts[turn].Cached + cached);
            }
        }

        public string CachedShare(int turn) => Prompts[turn].Prompt == 0 ? "–" : $"{100.0 * Prompts[turn].Cached / Prompts[turn].Prompt:F0} %";

        public void Fail()
        {
            lock (_lock)
            {
                Failed++;
            }
        }
    }
}
