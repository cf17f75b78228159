namespace WeSeek.Host;

/// <summary>
/// Where every verb keeps its data: one directory, the same whichever directory the operator runs
/// <c>weseek</c> (or <c>dotnet run</c>) from. Later wins: the per-user default, <c>WESEEK_HOME</c>,
/// <c>Storage:DataDirectory</c> (appsettings.json, <c>WESEEK__Storage__DataDirectory</c>), then <c>--data</c>.
/// </summary>
internal static class DataLocation
{
    /// <summary>The environment variable that moves the data directory.</summary>
    public const string HomeVariable = "WESEEK_HOME";

    /// <summary>The flag that moves the data directory for one command.</summary>
    public const string Flag = "--data";

    /// <summary>The per-user default: <c>~/.local/share/weseek</c> on Linux (<c>$XDG_DATA_HOME/weseek</c>),
    /// <c>%LOCALAPPDATA%\weseek</c> on Windows, <c>~/Library/Application Support/weseek</c> on macOS. A
    /// checkout or the directory the executable happens to run in is never the default: state would follow
    /// the working directory, and a key created from the wrong one would go into another database.</summary>
    public static string PerUserDefault()
    {
        var root = Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.DoNotVerify);
        return string.IsNullOrEmpty(root) ? Path.GetFullPath("weseek-data") : Path.Combine(root, "weseek");
    }

    /// <summary>The data directory when configuration does not name one: <c>WESEEK_HOME</c>, else the per-user default.</summary>
    public static string Default() =>
        Environment.GetEnvironmentVariable(HomeVariable) is { Length: > 0 } home ? Path.GetFullPath(home) : PerUserDefault();

    /// <summary>Rewrites <c>--data DIR</c> and <c>--data=DIR</c> to <c>--Storage:DataDirectory=DIR</c>, the key
    /// every verb reads; other arguments are kept in order.</summary>
    public static string[] RewriteArgs(string[] args)
    {
        var result = new List<string>(args.Length);
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i] == Flag && i + 1 < args.Length)
            {
                result.Add("--Storage:DataDirectory=" + Path.GetFullPath(args[++i]));
            }
            else if (args[i].StartsWith(Flag + "=", StringComparison.Ordinal))
            {
                result.Add("--Storage:DataDirectory=" + Path.GetFullPath(args[i][(Flag.Length + 1)..]));
            }
            else
            {
                result.Add(args[i]);
            }
        }

        return [.. result];
    }

    /// <summary>Fills <c>Storage:DataDirectory</c> with <see cref="Default"/> when no source set it, and makes
    /// a relative one absolute (relative to the working directory), so logs and errors name the real place.</summary>
    public static void Apply(IConfigurationManager configuration)
    {
        var configured = configuration["Storage:DataDirectory"];
        var directory = string.IsNullOrEmpty(configured) ? Default() : Path.GetFullPath(configured);
        if (directory != configured)
        {
            configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Storage:DataDirectory"] = directory });
        }
    }
}
