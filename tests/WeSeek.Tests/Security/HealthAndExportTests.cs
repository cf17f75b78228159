using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using WeSeek.Health;
using WeSeek.Security;
using WeSeek.TestKit;

namespace WeSeek.Tests.Security;

public sealed class HealthAndExportTests
{
    [Fact]
    public async Task Ready_StorageAndEngineFine_IsHealthy()
    {
        await using var harness = await CoreHarness.CreateAsync();
        var report = await harness.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync(c => c.Tags.Contains(HealthTags.Ready));
        Assert.Equal(HealthStatus.Healthy, report.Status);
        Assert.Equal(["engine", "storage"], report.Entries.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Ready_DatabaseCannotBeOpened_IsUnhealthyNamingStorage()
    {
        using var directory = new TempDirectory();
        // A directory where the database file should be: SQLite cannot open it.
        Directory.CreateDirectory(Path.Combine(directory.Path, "weseek.db"));
        await using var harness = await CoreHarness.CreateAsync(dataDirectory: directory.Path);
        var report = await harness.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync(c => c.Tags.Contains(HealthTags.Ready));
        Assert.Equal(HealthStatus.Unhealthy, report.Status);
        Assert.Equal(HealthStatus.Unhealthy, report.Entries["storage"].Status);
        Assert.Equal(HealthStatus.Healthy, report.Entries["engine"].Status);
    }

    [Fact]
    public async Task Export_Decrypt_RoundTripsTheConversation_WithoutIt_MetadataOnly()
    {
        await using var harness = await CoreHarness.CreateAsync();
        await harness.ReceiveAsync("m1", "alice", "导出测试 ibis-77");
        await harness.ReceiveAsync("m2", "bob", "别的会话");
        await harness.RunTurnsAsync();
        await harness.SendDueAsync();

        var decrypted = await ExportAsync(harness, decrypt: true, conversation: null);
        Assert.Equal(4, decrypted.Count);
        var alice = decrypted.Where(l => l["chat"]!.GetValue<string>() == "alice").ToList();
        Assert.Equal(["in", "out"], alice.Select(l => l["direction"]!.GetValue<string>()));
        Assert.Equal(["导出测试 ibis-77", "答：导出测试 ibis-77"], alice.Select(l => l["text"]!.GetValue<string>()));
        Assert.All(decrypted, l => Assert.Equal(harness.Services.GetRequiredService<KeyRing>().CurrentId, l["keyId"]!.GetValue<string>()));

        var one = await ExportAsync(harness, decrypt: true, conversation: alice[0]["conversation"]!.GetValue<string>());
        Assert.Equal(2, one.Count);

        var metadata = await ExportAsync(harness, decrypt: false, conversation: null);
        Assert.Equal(4, metadata.Count);
        Assert.All(metadata, l => Assert.Null(l["text"]));
    }

    private static async Task<List<JsonObject>> ExportAsync(CoreHarness harness, bool decrypt, string? conversation)
    {
        using var output = new StringWriter();
        var count = await harness.Services.ExportTranscriptsAsync(output, decrypt, conversation, CancellationToken.None);
        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => (JsonObject)JsonNode.Parse(l)!).ToList();
        Assert.Equal(count, lines.Count);
        return lines;
    }
}
