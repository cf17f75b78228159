using System.Globalization;
using System.Text;
using WeSeek.Channels.WeChatCrypto;
using WeSeek.TestKit;

namespace WeSeek.Benchmarks;

/// <summary>
/// Encrypted 公众号 callbacks stored and acknowledged per second, and their latency, with the state on SQLite (one
/// instance, the embedded default), on PostgreSQL (one instance) and on PostgreSQL shared by two instances
/// (clients alternate between them), side by side in one run. Same path as <see cref="CallbackBenchmarks"/>:
/// signature, AES, XML, the inbox insert committed, "success"; turns run in the background against an instant
/// model unless <c>--turns off</c>. PostgreSQL is <see cref="PostgresServer"/>'s throwaway cluster on loopback
/// (or <c>WESEEK_TEST_POSTGRES</c>).
/// </summary>
internal static class StorageCallbackBenchmarks
{
    public static async Task<int> RunAsync(Func<string, string, string> arg)
    {
        var seconds = double.Parse(arg("--seconds", "5"), CultureInfo.InvariantCulture);
        var concurrency = int.Parse(arg("--concurrency", "32"), CultureInfo.InvariantCulture);
        var rate = int.Parse(arg("--rate", "1000"), CultureInfo.InvariantCulture);
        var rounds = int.Parse(arg("--rounds", "2"), CultureInfo.InvariantCulture);
        var turns = arg("--turns", "on") != "off";
        var crypto = new WeChatMessageCrypto(CallbackBenchmarks.Token, CallbackBenchmarks.AesKey, CallbackBenchmarks.AppId);
        var nextId = 1L;

        (string Url, byte[] Body)[] Make(int count)
        {
            var now = TimeProvider.System.GetUtcNow();
            return [.. Enumerable.Range(0, count).Select(i =>
            {
                var id = Interlocked.Increment(ref nextId);
                var xml = FakeWeChatServer.TextMessage("gh_demo", "o-user-" + (id % 500).ToString(CultureInfo.InvariantCulture), "压测消息 " + id.ToString(CultureInfo.InvariantCulture), id, now);
                var (url, body) = FakeWeChatServer.Callback(CallbackBenchmarks.Path, CallbackBenchmarks.Token, crypto, xml, now, id.ToString(CultureInfo.InvariantCulture), "o-user");
                return (url, Encoding.UTF8.GetBytes(body));
            })];
        }

        var configurations = new (string Name, string Provider, int Instances)[]
        {
            ("1 instance, SQLite", "sqlite", 1),
            ("1 instance, PostgreSQL", "postgres", 1),
            ("2 instances, one PostgreSQL", "postgres", 2),
        };
        var results = configurations.ToDictionary(c => c.Name, _ => new List<(double Throughput, double P50, double P99, double OpenP50, double OpenP99, int Errors)>());
        for (var round = 0; round < rounds + 1; round++)
        {
            foreach (var (name, provider, instances) in configurations)
            {
                using var data = new TempDirectory();
                string[] storage = provider == "postgres"
                    ? ["--Storage:Provider=postgres", "--Storage:ConnectionString=" + await PostgresServer.CreateDatabaseAsync()]
                    : [];
                var targets = new List<CallbackBenchmarks.Target>();
                for (var i = 0; i < instances; i++)
                {
                    targets.Add(await CallbackBenchmarks.ProductAsync(turns, storage, data));
                }

                var clients = targets.Select(t => TestHttp.CreateClient(t.BaseAddress)).ToArray();
                try
                {
                    await CallbackBenchmarks.ClosedLoopAsync(clients, Make(500), concurrency, TimeSpan.FromSeconds(1));
                    var closed = await CallbackBenchmarks.ClosedLoopAsync(clients, Make((int)(seconds * 6000)), concurrency, TimeSpan.FromSeconds(seconds));
                    var open = await CallbackBenchmarks.OpenLoopAsync(clients, Make((int)(seconds * rate)), rate);
                    Console.Error.WriteLine($"round {round} {name}: {closed.Throughput:F0}/s p50 {closed.P50:F2} ms p99 {closed.P99:F2} ms; at {rate}/s p50 {open.P50:F2} p99 {open.P99:F2}; errors {closed.Errors + open.Errors}");
                    if (round > 0)
                    {
                        results[name].Add((closed.Throughput, closed.P50, closed.P99, open.P50, open.P99, closed.Errors + open.Errors));
                    }
                }
                finally
                {
                    foreach (var client in clients)
                    {
                        client.Dispose();
                    }

                    foreach (var target in targets)
                    {
                        await target.DisposeAsync();
                    }
                }
            }
        }

        var table = new StringBuilder();
        table.AppendLine(CultureInfo.InvariantCulture, $"| state | closed-loop msg/s ({concurrency} clients) | p50 ms | p99 ms | at {rate} msg/s: p50 ms | p99 ms | errors |");
        table.AppendLine("|---|---|---|---|---|---|---|");
        foreach (var (name, rows) in results)
        {
            table.AppendLine(CultureInfo.InvariantCulture, $"| {name} | {CallbackBenchmarks.Median(rows.Select(r => r.Throughput)):F0} | {CallbackBenchmarks.Median(rows.Select(r => r.P50)):F2} | {CallbackBenchmarks.Median(rows.Select(r => r.P99)):F2} | {CallbackBenchmarks.Median(rows.Select(r => r.OpenP50)):F2} | {CallbackBenchmarks.Median(rows.Select(r => r.OpenP99)):F2} | {rows.Sum(r => r.Errors)} |");
        }

        Console.WriteLine(table);
        return 0;
    }
}
