using System.Diagnostics;
using System.Text;

namespace WeSeek.TestKit;

/// <summary>Runs the real <c>weseek</c> executable (built beside the test assembly) as a child process.</summary>
public static class WeseekProcess
{
    /// <summary>Starts <c>dotnet weseek.dll</c> with <paramref name="args"/>; output is captured.</summary>
    public static Process Start(IEnumerable<string> args, IDictionary<string, string>? environment = null, bool redirectInput = false)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = redirectInput,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "weseek.dll"));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        return Process.Start(start) ?? throw new InvalidOperationException("Could not start dotnet.");
    }

    /// <summary>Runs to completion (at most 60 s) and returns the exit code and output.</summary>
    public static async Task<(int ExitCode, string Output, string Error)> RunAsync(IEnumerable<string> args, IDictionary<string, string>? environment = null, string? input = null)
    {
        using var process = Start(args, environment, redirectInput: input is not null);
        if (input is not null)
        {
            await process.StandardInput.WriteAsync(input);
            process.StandardInput.Close();
        }

        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"weseek {string.Join(' ', args)} did not exit in 60 s. Output so far: {await output}");
        }

        return (process.ExitCode, await output, await error);
    }
}
