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
        Assert.Contains("weseek_model_time_to_first_token_seconds_bucket", metrics, StringComparison.Ordinal);
        Assert.Matches(@"weseek_reply_first_chunk_latency_seconds_count\{[^}]*channel=""webchat""[^}]*\} [1-9]", metrics);
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
