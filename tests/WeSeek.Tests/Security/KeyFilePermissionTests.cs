using Microsoft.Extensions.Logging;
using WeSeek.Security;
using WeSeek.TestKit;

namespace WeSeek.Tests.Security;

/// <summary>A key file other users can read is loaded with a warning that says how to fix it, as ssh does.</summary>
public sealed class KeyFilePermissionTests
{
    [Fact]
    public void KeyFileWithMode0644_LoadsAndWarnsWithChmod600()
    {
        Assert.SkipWhen(OperatingSystem.IsWindows(), "Unix file modes only.");
        using var data = new TempDirectory();
        var file = Path.Combine(data.Path, "operator.key");
        File.WriteAllText(file, KeyRing.NewKeyLine() + "\n");
        if (!OperatingSystem.IsWindows())
        {
            // What `echo … > operator.key` leaves under the usual umask 022.
            File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        }
        var logger = new CapturingLogger();

        var ring = KeyRingLoader.Load(new EncryptionOptions { KeyFile = file }, data.Path, logger);

        Assert.Single(ring.Ids);
        var warning = Assert.Single(logger.Entries, e => e.Id == 6010);
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Contains("0644", warning.Message, StringComparison.Ordinal);
        Assert.Contains("chmod 600", warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void KeyFileWithMode0600_LoadsWithoutTheWarning()
    {
        Assert.SkipWhen(OperatingSystem.IsWindows(), "Unix file modes only.");
        using var data = new TempDirectory();
        var logger = new CapturingLogger();

        KeyRingLoader.Load(new EncryptionOptions(), data.Path, logger);
        KeyRingLoader.Load(new EncryptionOptions(), data.Path, logger);

        Assert.DoesNotContain(logger.Entries, e => e.Id == 6010);
    }

    private sealed class CapturingLogger : ILogger
    {
        public List<(int Id, LogLevel Level, string Message)> Entries { get; } = [];

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Entries.Add((eventId.Id, logLevel, formatter(state, exception)));
    }
}
