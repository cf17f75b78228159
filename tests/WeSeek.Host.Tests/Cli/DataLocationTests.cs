using WeSeek.TestKit;

namespace WeSeek.Host.Tests.Cli;

/// <summary>One data directory for every verb, whatever directory the executable runs in.</summary>
public sealed class DataLocationTests
{
    [Fact]
    public async Task Verbs_WithoutDataOrHome_UseThePerUserDirectoryAndSayWhere()
    {
        using var user = new TempDirectory();
        // WESEEK_HOME empty: the per-user default, which .NET takes from XDG_DATA_HOME on Linux.
        var environment = new Dictionary<string, string> { ["WESEEK_HOME"] = "", ["XDG_DATA_HOME"] = user.Path, ["HOME"] = user.Path };
        Assert.SkipUnless(OperatingSystem.IsLinux(), "XDG_DATA_HOME is the per-user directory on Linux only.");
        var expected = Path.Combine(user.Path, "weseek");

        var create = await WeseekProcess.RunAsync(["admin", "key", "create", "--name", "ops"], environment);
        var list = await WeseekProcess.RunAsync(["admin", "key", "list"], environment);

        Assert.True(create.ExitCode == 0, create.Error);
        Assert.Contains(Path.Combine(expected, "weseek.db"), create.Error, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(expected, "weseek.db")));
        Assert.True(list.ExitCode == 0, list.Error);
        Assert.Contains("ops", list.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DataFlagAndWeSeekHome_NameTheSameDirectoryForEveryVerb()
    {
        using var data = new TempDirectory();

        var create = await WeseekProcess.RunAsync(["admin", "key", "create", "--name", "ci", "--data", data.Path]);
        var list = await WeseekProcess.RunAsync(["admin", "key", "list"], new Dictionary<string, string> { ["WESEEK_HOME"] = data.Path });

        Assert.True(create.ExitCode == 0, create.Error);
        Assert.True(File.Exists(Path.Combine(data.Path, "weseek.db")));
        Assert.True(list.ExitCode == 0, list.Error);
        Assert.Contains("ci", list.Output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("admin key list")]
    [InlineData("admin key revoke 1")]
    [InlineData("logs export")]
    [InlineData("audit verify")]
    public async Task ReadOnlyVerb_WithoutADatabase_RefusesSayingWhereItLookedAndCreatesNothing(string verb)
    {
        using var data = new TempDirectory();

        var (exitCode, output, error) = await WeseekProcess.RunAsync([.. verb.Split(' '), "--data", data.Path]);

        Assert.Equal(2, exitCode);
        Assert.Contains($"no WeSeek database at {Path.Combine(data.Path, "weseek.db")}", error, StringComparison.Ordinal);
        Assert.Contains("WESEEK_HOME", error, StringComparison.Ordinal);
        Assert.Equal("", output);
        Assert.Empty(Directory.EnumerateFileSystemEntries(data.Path));
    }

    [Fact]
    public async Task Serve_PrintsItsDataDirectoryAtStart()
    {
        using var data = new TempDirectory();
        using var process = WeseekProcess.Start(["serve", "--urls", "http://127.0.0.1:0", "--data", data.Path, "--Model:Provider=remote"]);
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            string? line;
            do
            {
                line = await process.StandardOutput.ReadLineAsync(timeout.Token);
            }
            while (line is not null && !line.Contains("WeSeek keeps its data in", StringComparison.Ordinal));

            Assert.NotNull(line);
            Assert.Contains(data.Path, line, StringComparison.Ordinal);
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }
}
