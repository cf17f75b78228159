using System.Diagnostics.Metrics;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using WeSeek.Inference.Llama.Engine;
using WeSeek.Storage;

namespace WeSeek.Inference.Llama.Tests.Engine;

/// <summary>The engine's instruments come from its container's meter factory: two hosts in one process each
/// count only their own engine.</summary>
public sealed class EngineMetricsTests
{
    private static (ServiceProvider Services, LlamaEngineHost Host) CreateHost()
    {
        var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var options = new LlamaEngineOptions { ModelPath = TinyModel.File, ContextSize = 2048, MaxSequences = 2 };
        var resolver = new LlamaModelResolver(Options.Create(options), Options.Create(new StorageOptions { DataDirectory = Path.GetTempPath() }), NullLogger<LlamaModelResolver>.Instance);
        var metrics = new LlamaEngineMetrics(services.GetRequiredService<IMeterFactory>());
        return (services, new LlamaEngineHost(Options.Create(options), resolver, metrics, NullLogger<LlamaEngineHost>.Instance));
    }

    [Fact]
    public async Task TwoHostsInOneProcess_EachCountsOnlyItsOwnEngine()
    {
        var token = TestContext.Current.CancellationToken;
        var (servicesA, hostA) = CreateHost();
        var (servicesB, hostB) = CreateHost();
        await using (servicesA)
        await using (servicesB)
        await using (hostA)
        await using (hostB)
        {
            var engineA = await hostA.GetEngineAsync(token);
            await hostB.GetEngineAsync(token);
            using var generatedA = new MetricCollector<long>(servicesA.GetRequiredService<IMeterFactory>(), LlamaEngineMetrics.MeterName, "weseek.llama.generated_tokens");
            using var generatedB = new MetricCollector<long>(servicesB.GetRequiredService<IMeterFactory>(), LlamaEngineMetrics.MeterName, "weseek.llama.generated_tokens");
            using var cellsA = new MetricCollector<long>(servicesA.GetRequiredService<IMeterFactory>(), LlamaEngineMetrics.MeterName, "weseek.llama.kv.cells");

            using var client = new LlamaChatClient(hostA);
            var response = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "你好")], new ChatOptions { MaxOutputTokens = 6, Seed = 1 }, token);

            Assert.Equal(response.Usage!.OutputTokenCount, generatedA.GetMeasurementSnapshot().Sum(m => m.Value));
            Assert.Empty(generatedB.GetMeasurementSnapshot());

            // The cell gauge sums this host's engine only: used + free = its cells, not both engines'.
            cellsA.RecordObservableInstruments();
            Assert.Equal(engineA.Cells.Total, cellsA.GetMeasurementSnapshot().Sum(m => m.Value));
        }
    }
}
