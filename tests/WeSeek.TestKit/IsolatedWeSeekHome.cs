namespace WeSeek.TestKit;

/// <summary>
/// Points <c>WESEEK_HOME</c> at a fresh temporary directory for the whole test assembly (and the
/// <c>weseek</c> processes it starts, which inherit it), so that a test that names no data directory writes
/// there and never into the operator's real per-user directory. Deleted when the assembly's tests end.
/// </summary>
public sealed class IsolatedWeSeekHome : IDisposable
{
    private readonly TempDirectory _home = new();
    private readonly string? _previous = Environment.GetEnvironmentVariable("WESEEK_HOME");

    public IsolatedWeSeekHome() => Environment.SetEnvironmentVariable("WESEEK_HOME", _home.Path);

    /// <summary>The directory <c>WESEEK_HOME</c> names during the tests.</summary>
    public string Path => _home.Path;

    public void Dispose()
    {
        Environment.SetEnvironmentVariable("WESEEK_HOME", _previous);
        _home.Dispose();
    }
}
