using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using WeSeek.Host.Tests.WebChat;
using WeSeek.TestKit;

namespace WeSeek.Host.Tests.Operations;

/// <summary>/metrics after a real exchange: the message, turn, model and delivery instruments are exported
/// under Prometheus names.</summary>
public sealed class MetricsTests
{
    [Fact]
    public async Task OneExchange_CountersAndLatencyHistogramsAppearAtMetrics()
    {
        using var data = new TempDirectory();
        var model = ScriptedChatClient.Echo();
        await using var app = await WebChatEndToEndTests.StartAsync(data, services =>
        {
            services.RemoveAll<IChatClient>();
            services.AddChatClient(model).UseReasoningSplit();
        });
        using var http = TestHttp.CreateClient(WebChatEndToEndTests.BaseAddress(app));

        await WebChatEndToEndTests.PostAsync(http, "c-metrics", "m-1", "你好");
        await WebChatEndToEndTests.WaitForRepliesAsync(http, "c-metrics", 1);
        var metrics = await ScrapeUntilAsync(http, "weseek_reply_first_chunk_latency_seconds_bucket");

        Assert.Matches(@"weseek_messages_received_total\{[^}]*channel=""webchat""[^}]*\} [1-9]", metrics);
        Assert.Matches(@"weseek_messages_sent_total\{[^}]*channel=""webchat""[^}]*mode=""api""[^}]*\} [1-9]", metrics);
        Assert.Contains("weseek_turn_duration_seconds_bucket", metrics, StringComparison.Ordinal);
        Assert.Contains("gen_ai_client_operation_duration_seconds_bucket", metrics, StringComparison.Ordinal);
        Assert.Contains("gen_ai_client_operation_time_to_first_chunk_seconds_bucket", metrics, StringComparison.Ordinal);
        Assert.Matches(@"weseek_reply_first_chunk_latency_seconds_count\{[^}]*channel=""webchat""[^}]*\} [1-9]", metrics);
    }

    [Fact]
    public async Task BeforeAnyMessage_TheServiceIsNamedAndEventCountersReadZero()
    {
        using var data = new TempDirectory();
        await using var app = await WebChatEndToEndTests.StartAsync(data, null);
        using var http = TestHttp.CreateClient(WebChatEndToEndTests.BaseAddress(app));

        var metrics = await ScrapeUntilAsync(http, "weseek_messages_duplicates_total");

        var samples = PrometheusText.Parse(metrics);
        Assert.DoesNotContain("unknown_service", metrics, StringComparison.Ordinal);
        Assert.Contains(samples, s => s.Name == "target_info" && s.Labels.GetValueOrDefault("service_name") == "weseek");
        Assert.Contains(samples, s => s.Name == "weseek_messages_duplicates_total" && s.Labels["channel"] == "webchat" && s.Value == 0);
        Assert.Contains(samples, s => s.Name == "weseek_messages_received_total" && s.Labels["channel"] == "webchat" && s.Value == 0);
        Assert.Contains(samples, s => s.Name == "weseek_guard_quota_rejections_total" && s.Labels["scope"] == "user" && s.Value == 0);
    }

    [Fact]
    public async Task AfterAConversation_EveryNamedMetricIsPresent_AndTheScrapeParses()
    {
        using var data = new TempDirectory();
        var model = ScriptedChatClient.Echo();
        model.ReportUsage = true;
        model.ChunkDelay = TimeSpan.FromMilliseconds(5);
        await using var app = await WebChatEndToEndTests.StartAsync(
            data,
            services =>
            {
                services.RemoveAll<IChatClient>();
                services.AddChatClient(model).UseReasoningSplit();
            },
            "--Moderation:Lists:watch:Action=Flag", "--Moderation:Lists:watch:Words:0=刷单", "--Quota:PerUserDaily=1");
        using var http = TestHttp.CreateClient(WebChatEndToEndTests.BaseAddress(app));

        await WebChatEndToEndTests.PostAsync(http, "c-all", "m-1", "刷单是什么");
        await WebChatEndToEndTests.WaitForRepliesAsync(http, "c-all", 1);
        await WebChatEndToEndTests.PostAsync(http, "c-all", "m-2", "再问一个");
        await WebChatEndToEndTests.WaitForRepliesAsync(http, "c-all", 2);
        string[] required =
        [
            "weseek_messages_received_total", "weseek_messages_sent_total", "weseek_messages_send_failures_total",
            "weseek_reply_first_chunk_latency_seconds_bucket", "weseek_reply_last_chunk_latency_seconds_bucket",
            "weseek_reply_typing_latency_seconds_bucket", "weseek_turn_duration_seconds_bucket",
            "gen_ai_client_operation_duration_seconds_bucket", "gen_ai_client_operation_time_to_first_chunk_seconds_bucket",
            "gen_ai_client_token_usage_bucket", "gen_ai_client_operation_time_per_output_chunk_seconds_bucket", "weseek_model_output_speed",
            "weseek_queue_depth", "weseek_moderation_hits_total", "weseek_guard_quota_rejections_total",
            "process_memory_usage_bytes", "process_cpu_time_seconds_total", "dotnet_gc_collections_total",
        ];
        var metrics = await ScrapeUntilAsync(http, required);

        var samples = PrometheusText.Parse(metrics);
        TestContext.Current.TestOutputHelper?.WriteLine(string.Join(" ", samples.Select(s => s.Name).Where(n => !n.EndsWith("_bucket", StringComparison.Ordinal)).Distinct()));
        var tokenTypes = samples.Where(s => s.Name == "gen_ai_client_token_usage_count").Select(s => s.Labels["gen_ai_token_type"]).ToHashSet();
        Assert.Superset(new HashSet<string> { "input", "output" }, tokenTypes);
        // The prompt tokens served from a kept cache: not a GenAI token type, so a metric of their own.
        Assert.Contains(samples, s => s.Name == "weseek_model_cached_input_tokens_count" && s.Value >= 1);
        Assert.Contains(samples, s => s.Name == "weseek_messages_send_failures_total" && s.Labels["channel"] == "webchat" && s.Value == 0);
        Assert.Contains(samples, s => s.Name == "weseek_guard_quota_rejections_total" && s.Labels["scope"] == "user" && s.Value >= 1);
        Assert.Contains(samples, s => s.Name == "weseek_moderation_hits_total" && s.Labels["direction"] == "input" && s.Value >= 1);
        Assert.Contains(samples, s => s.Name == "weseek_reply_typing_latency_seconds_count" && s.Labels["channel"] == "webchat" && s.Value >= 1);
        Assert.Contains(samples, s => s.Name.StartsWith("weseek_model_output_speed", StringComparison.Ordinal) && s.Name.EndsWith("_count", StringComparison.Ordinal) && s.Value >= 1);
        if (!System.Runtime.InteropServices.NativeLibrary.TryLoad("libnvidia-ml.so.1", out _))
        {
            // No GPU here: no GPU series, rather than zeros.
            Assert.DoesNotContain(samples, s => s.Name.StartsWith("hw_gpu_", StringComparison.Ordinal));
        }

        await PromtoolAsync(metrics);
    }

    /// <summary>Where Prometheus' own checker is installed (Debian package prometheus; CI installs it), the scrape
    /// must pass <c>promtool check metrics</c>'s parser too.</summary>
    private static async Task PromtoolAsync(string metrics)
    {
        var promtool = Environment.GetEnvironmentVariable("PROMTOOL") ?? "/usr/bin/promtool";
        if (!File.Exists(promtool))
        {
            TestContext.Current.TestOutputHelper?.WriteLine("promtool not installed: checked with the built-in parser only.");
            return;
        }

        using var process = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo(promtool, "check metrics")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        await process.StandardInput.WriteAsync(metrics);
        process.StandardInput.Close();
        var output = await process.StandardOutput.ReadToEndAsync() + await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();

        // Exit 1 is a parse error; 3 means parsed, with naming lint remarks (which the exporter's unit suffixes cause).
        Assert.True(process.ExitCode is 0 or 3, $"promtool check metrics exited {process.ExitCode}: {output}");
        TestContext.Current.TestOutputHelper?.WriteLine("promtool: " + (output.Length == 0 ? "clean" : output));
    }

    private static async Task<string> ScrapeUntilAsync(HttpClient http, string[] names)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var text = "";
        try
        {
            while (true)
            {
                text = await http.GetStringAsync("/metrics", timeout.Token);
                if (names.All(n => text.Contains(n, StringComparison.Ordinal)))
                {
                    return text;
                }

                await Task.Delay(200, timeout.Token);
            }
        }
        catch (OperationCanceledException)
        {
            Assert.Fail("Missing from /metrics: " + string.Join(", ", names.Where(n => !text.Contains(n, StringComparison.Ordinal))));
            throw;
        }
    }

    /// <summary>The exporter caches a scrape briefly; ask again until the instrument is there.</summary>
    private static async Task<string> ScrapeUntilAsync(HttpClient http, string name)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (true)
        {
            var text = await http.GetStringAsync("/metrics", timeout.Token);
            if (text.Contains(name, StringComparison.Ordinal))
            {
                return text;
            }

            await Task.Delay(200, timeout.Token);
        }
    }
}
