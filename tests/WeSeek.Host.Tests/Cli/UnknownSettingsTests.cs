using WeSeek.TestKit;

namespace WeSeek.Host.Tests.Cli;

/// <summary>Keys under WeSeek's sections that no option reads are reported, not silently ignored.</summary>
public sealed class UnknownSettingsTests
{
    [Fact]
    public async Task Serve_UnknownKeys_WarnsForEachNamingTheNearestKnownKeyAndStarts()
    {
        using var data = new TempDirectory();
        using var process = WeseekProcess.Start(
            ["serve", "--urls", "http://127.0.0.1:0", "--data", data.Path, "--Model:Provider=remote", "--Outbox:DailyCapp=3", "--Logging:LogLevel:Default=Information"],
            new Dictionary<string, string> { ["WESEEK__Storage__Redis"] = "redis:6379" });
        try
        {
            var warnings = new List<string>();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            while (await process.StandardOutput.ReadLineAsync(timeout.Token) is { } line && !line.Contains("Now listening", StringComparison.Ordinal)
                && !line.Contains("Application started", StringComparison.Ordinal))
            {
                if (line.Contains("Unknown setting", StringComparison.Ordinal))
                {
                    warnings.Add(line.Trim());
                }
            }

            Assert.Equal(2, warnings.Count);
            Assert.Contains(warnings, w => w.StartsWith("Unknown setting Outbox:DailyCapp (environment variable WESEEK__Outbox__DailyCapp)", StringComparison.Ordinal)
                && w.EndsWith("the nearest known key is Outbox:DailyCap", StringComparison.Ordinal));
            Assert.Contains(warnings, w => w.StartsWith("Unknown setting Storage:Redis (environment variable WESEEK__Storage__Redis)", StringComparison.Ordinal));
            Assert.False(process.HasExited);
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }

    [Fact]
    public async Task Serve_StrictConfigWithUnknownKey_RefusesToStartInOneLine()
    {
        using var data = new TempDirectory();

        var (exitCode, _, error) = await WeseekProcess.RunAsync(
            ["serve", "--strict-config", "--urls", "http://127.0.0.1:0", "--data", data.Path, "--Model:Provider=remote", "--Storage:Redis=redis:6379"]);

        Assert.Equal(2, exitCode);
        var line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries), l => l.StartsWith("WeSeek cannot start", StringComparison.Ordinal));
        Assert.Contains("Storage:Redis (environment variable WESEEK__Storage__Redis): no WeSeek option has this key", line, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_StrictConfigWithKnownKeysOnly_Starts()
    {
        using var data = new TempDirectory();
        using var process = WeseekProcess.Start(
            ["serve", "--strict-config", "--urls", "http://127.0.0.1:0", "--data", data.Path, "--Model:Provider=remote",
             "--Model:Remote:Replicas:0=http://127.0.0.1:9/v1", "--Outbox:DailyCap=10", "--ILink:Enabled=false", "--Logging:LogLevel:Default=Information"]);
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            string? line;
            do
            {
                line = await process.StandardOutput.ReadLineAsync(timeout.Token);
            }
            while (line is not null && !line.Contains("Now listening", StringComparison.Ordinal));

            Assert.NotNull(line);
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }
}
