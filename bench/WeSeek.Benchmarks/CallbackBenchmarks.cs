using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection.Extensions;
using WeSeek.Channels.WeChatCrypto;
using WeSeek.Host.Commands;
using WeSeek.TestKit;

namespace WeSeek.Benchmarks;

/// <summary>
/// Encrypted 公众号 callbacks stored and acknowledged by the product (signature check, AES decrypt, XML parse,
/// SQLite insert committed in WAL, answer "success"), side by side with a bare Kestrel endpoint that reads the
/// body and answers "success", in the same run: closed-loop throughput, then latency at a fixed offered rate.
/// Passive replies are off (budget 0) so the callback returns as soon as the message is stored; turns run in
/// the background against an instant scripted model and the fake WeChat API, as they would in production.
/// </summary>
internal static class CallbackBenchmarks
{
    internal const string Token = "weseektoken";
    internal const string AesKey = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
    internal const string AppId = "wx0123456789abcdef";
    internal const string Path = "/wechat/mp/demo";

    public static async Task<int> RunAsync(Func<string, string, string> arg)
    {
        var seconds = double.Parse(arg("--seconds", "5"), CultureInfo.InvariantCulture);
        var concurrency = int.Parse(arg("--concurrency", "32"), CultureInfo.InvariantCulture);
        var rate = int.Parse(arg("--rate", "2000"), CultureInfo.InvariantCulture);
        var rounds = int.Parse(arg("--rounds", "2"), CultureInfo.InvariantCulture);
        // "off": the model never answers, so no turn work competes with the callbacks (the callback path alone).
        var turns = arg("--turns", "on") != "off";
        var crypto = new WeChatMessageCrypto(Token, AesKey, AppId);
        var nextId = 1L;

        // Bodies are made before each measurement: the client's encryption is not what is measured.
        (string Url, byte[] Body)[] Make(int count)
        {
            var now = TimeProvider.System.GetUtcNow();
            return [.. Enumerable.Range(0, count).Select(i =>
            {
                var id = Interlocked.Increment(ref nextId);
                var xml = FakeWeChatServer.TextMessage("gh_demo", "o-user-" + (id % 500).ToString(CultureInfo.InvariantCulture), "压测消息 " + id.ToString(CultureInfo.InvariantCulture), id, now);
                var (url, body) = FakeWeChatServer.Callback(Path, Token, crypto, xml, now, id.ToString(CultureInfo.InvariantCulture), "o-user");
                return (url, Encoding.UTF8.GetBytes(body));
            })];
        }

        var results = new Dictionary<string, List<(double Throughput, double P50, double P99, double OpenP50, double OpenP99, int Errors)>>
        {
            ["bare Kestrel"] = [],
            ["WeSeek 公众号 callback"] = [],
        };
        for (var round = 0; round < rounds + 1; round++)
        {
            foreach (var name in results.Keys)
            {
                await using var target = name == "bare Kestrel" ? await BareAsync() : await ProductAsync(turns);
                using var http = TestHttp.CreateClient(target.BaseAddress);
                var warm = Make(500);
                await ClosedLoopAsync([http], warm, concurrency, TimeSpan.FromSeconds(1));
                var closed = await ClosedLoopAsync([http], Make((int)(seconds * 6000)), concurrency, TimeSpan.FromSeconds(seconds));
                var open = await OpenLoopAsync([http], Make((int)(seconds * rate)), rate);
                Console.Error.WriteLine($"round {round} {name}: {closed.Throughput:F0}/s p50 {closed.P50:F2} ms p99 {closed.P99:F2} ms; at {rate}/s p50 {open.P50:F2} p99 {open.P99:F2}; errors {closed.Errors + open.Errors}");
                if (round > 0)
                {
                    results[name].Add((closed.Throughput, closed.P50, closed.P99, open.P50, open.P99, closed.Errors + open.Errors));
                }
            }
        }

        var bare = results["bare Kestrel"];
        var product = results["WeSeek 公众号 callback"];
        var table = new StringBuilder();
        table.AppendLine(CultureInfo.InvariantCulture, $"| endpoint | closed-loop msg/s ({concurrency} clients) | p50 ms | p99 ms | at {rate} msg/s: p50 ms | p99 ms | errors |");
        table.AppendLine("|---|---|---|---|---|---|---|");
        foreach (var (name, rows) in results)
        {
            table.AppendLine(CultureInfo.InvariantCulture, $"| {name} | {Median(rows.Select(r => r.Throughput)):F0} | {Median(rows.Select(r => r.P50)):F2} | {Median(rows.Select(r => r.P99)):F2} | {Median(rows.Select(r => r.OpenP50)):F2} | {Median(rows.Select(r => r.OpenP99)):F2} | {rows.Sum(r => r.Errors)} |");
        }

        table.AppendLine(CultureInfo.InvariantCulture, $"| ratio (WeSeek / bare) | {Median(product.Select(r => r.Throughput)) / Median(bare.Select(r => r.Throughput)):F2}× | | | | | |");
        Console.WriteLine(table);
        return 0;
    }

    internal static async Task<(double Throughput, double P50, double P99, int Errors)> ClosedLoopAsync(HttpClient[] http, (string Url, byte[] Body)[] requests, int concurrency, TimeSpan duration)
    {
        var latencies = new List<double>[concurrency];
        var errors = 0;
        var next = -1;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async worker =>
        {
            latencies[worker] = [];
            int i;
            while (clock.Elapsed < duration && (i = Interlocked.Increment(ref next)) < requests.Length)
            {
                var (ok, ms) = await PostAsync(http[i % http.Length], requests[i]);
                latencies[worker].Add(ms);
                if (!ok)
                {
                    Interlocked.Increment(ref errors);
                }
            }
        }));
        var all = latencies.SelectMany(l => l).Order().ToList();
        return (all.Count / clock.Elapsed.TotalSeconds, Percentile(all, 0.50), Percentile(all, 0.99), errors);
    }

    /// <summary>Requests started on a fixed schedule whatever the answers do (no coordinated omission).</summary>
    internal static async Task<(double P50, double P99, int Errors)> OpenLoopAsync(HttpClient[] http, (string Url, byte[] Body)[] requests, int rate)
    {
        var clock = Stopwatch.StartNew();
        var tasks = new List<Task<(bool Ok, double Ms)>>(requests.Length);
        for (var i = 0; i < requests.Length; i++)
        {
            var due = TimeSpan.FromSeconds((double)i / rate);
            var wait = due - clock.Elapsed;
            if (wait > TimeSpan.FromMilliseconds(1))
            {
                await Task.Delay(wait);
            }

            tasks.Add(PostAsync(http[i % http.Length], requests[i], clock, due));
        }

        var done = await Task.WhenAll(tasks);
        var all = done.Select(d => d.Ms).Order().ToList();
        return (Percentile(all, 0.50), Percentile(all, 0.99), done.Count(d => !d.Ok));
    }

    private static async Task<(bool Ok, double Ms)> PostAsync(HttpClient http, (string Url, byte[] Body) request, Stopwatch? clock = null, TimeSpan due = default)
    {
        var started = clock is null ? Stopwatch.GetTimestamp() : 0;
        using var content = new ByteArrayContent(request.Body);
        content.Headers.ContentType = new("text/xml");
        using var response = await http.PostAsync(request.Url, content);
        var body = await response.Content.ReadAsStringAsync();
        // Open loop: latency from when the request was due, so a stalled server is charged for the queue.
        var ms = clock is null ? Stopwatch.GetElapsedTime(started).TotalMilliseconds : (clock.Elapsed - due).TotalMilliseconds;
        return (response.IsSuccessStatusCode && body == "success", ms);
    }

    internal static double Percentile(List<double> sorted, double p) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];

    internal static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted[sorted.Count / 2];
    }

    internal sealed class Target(Uri baseAddress, Func<ValueTask> dispose) : IAsyncDisposable
    {
        public Uri BaseAddress { get; } = baseAddress;

        public ValueTask DisposeAsync() => dispose();
    }

    private static async Task<Target> BareAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.MapPost(Path, async (HttpContext context) =>
        {
            using var reader = new StreamReader(context.Request.Body);
            await reader.ReadToEndAsync(context.RequestAborted);
            return Results.Text("success");
        });
        await app.StartAsync();
        return new Target(Address(app), async () => await app.DisposeAsync());
    }

    internal static async Task<Target> ProductAsync(bool turns, string[]? extra = null, TempDirectory? shared = null)
    {
        var data = shared ?? new TempDirectory();
        var weChat = await FakeWeChatServer.StartAsync();
        var model = ScriptedChatClient.Echo();
        if (!turns)
        {
            model.OnCall = (_, ct) => Task.Delay(Timeout.Infinite, ct);
        }

        var app = ServeCommand.Build(
        [
            "--urls=http://127.0.0.1:0",
            $"--Storage:DataDirectory={data.Path}",
            "--Model:Provider=remote",
            "--Logging:LogLevel:Default=Warning",
            "--OfficialAccount:Accounts:demo:Token=" + Token,
            "--OfficialAccount:Accounts:demo:EncodingAesKey=" + AesKey,
            "--OfficialAccount:Accounts:demo:AppId=" + AppId,
            "--OfficialAccount:Accounts:demo:AppSecret=secret",
            "--OfficialAccount:ApiBaseUrl=" + weChat.BaseUrl,
            "--OfficialAccount:PassiveReplyBudget=00:00:00",
            // Typing is a separate call to WeChat, not part of storing and acknowledging; its fake would share the CPU.
            "--OfficialAccount:Accounts:demo:Typing=false",
            .. extra ?? [],
        ], services =>
        {
            services.RemoveAll<IChatClient>();
            services.AddChatClient(model).UseReasoningSplit();
        });
        await app.StartAsync();
        return new Target(Address(app), async () =>
        {
            await app.StopAsync();
            await app.DisposeAsync();
            await weChat.DisposeAsync();
            if (shared is null)
            {
                data.Dispose();
            }
        });
    }

    private static Uri Address(WebApplication app) =>
        new(app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First());
}
