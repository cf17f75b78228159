namespace WeSeek.TestKit;

/// <summary>
/// Points <c>WESEEK_HOME</c> at a fresh temporary directory for the whole test assembly (and the
/// <c>weseek</c> processes it starts, which inherit it), so that a test that names no data directory writes
/// there and never into the operator's real per-user directory. Deleted when the assembly's tests end. Also pins
/// the embedded engine's KV cells to 8,192 (<c>WESEEK__Model__Llama__ContextSize</c>): the product sizes them from
/// the machine's memory, and tests that start many hosts keep each one small.
/// </summary>
public sealed class IsolatedWeSeekHome : IDisposable
{
    private readonly TempDirectory _home = new();
    private const string ContextSizeVariable = "WESEEK__Model__Llama__ContextSize";
    private readonly string? _previous = Environment.GetEnvironmentVariable("WESEEK_HOME");
    private readonly string? _previousContext = Environment.GetEnvironmentVariable(ContextSizeVariable);

    public IsolatedWeSeekHome()
    {
        Environment.SetEnvironmentVariable("WESEEK_HOME", _home.Path);
        Environment.SetEnvironmentVariable(ContextSizeVariable, _previousContext ?? "8192");
    }

    /// <summary>The directory <c>WESEEK_HOME</c> names during the tests.</summary>
    public string Path => _home.Path;

    public void Dispose()
    {
        Environment.SetEnvironmentVariable("WESEEK_HOME", _previous);
        Environment.SetEnvironmentVariable(ContextSizeVariable, _previousContext);
        _home.Dispose();
    }
}
