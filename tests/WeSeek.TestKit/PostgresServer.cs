using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace WeSeek.TestKit;

/// <summary>
/// A real PostgreSQL for the tests, one per test process. <c>WESEEK_TEST_POSTGRES</c> (a connection string whose
/// user may create databases; <c>.ci/run</c> sets it to the throwaway cluster it starts) wins; without it the kit
/// starts its own throwaway cluster with the installed binaries (initdb and pg_ctl in a temporary directory, on a
/// free loopback port, fsync off: nothing here needs to survive the machine) and stops it when the process exits.
/// Without either the tests fail with a line saying how to install PostgreSQL: a skipped suite proves nothing.
/// Each test gets its own database (<see cref="CreateDatabaseAsync"/>).
/// </summary>
public sealed class PostgresServer
{
    /// <summary>The environment variable naming a server to use instead of starting one.</summary>
    public const string Variable = "WESEEK_TEST_POSTGRES";

    private static readonly Lazy<Task<PostgresServer>> SharedServer = new(StartAsync);
    private static int _databases;

    private PostgresServer(string adminConnectionString) => AdminConnectionString = adminConnectionString;

    /// <summary>Connects as a user that may create databases, to the <c>postgres</c> database.</summary>
    public string AdminConnectionString { get; }

    /// <summary>The process's server, started on first use.</summary>
    public static Task<PostgresServer> SharedAsync() => SharedServer.Value;

    /// <summary>A new empty database; returns its connection string.</summary>
    public static async Task<string> CreateDatabaseAsync()
    {
        var server = await SharedAsync();
        var name = $"weseek_t{Environment.ProcessId}_{Interlocked.Increment(ref _databases)}_{Guid.NewGuid().ToString("N")[..6]}";
        await using (var connection = new NpgsqlConnection(server.AdminConnectionString))
        {
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = $"CREATE DATABASE {name};";
            await command.ExecuteNonQueryAsync();
        }

        return new NpgsqlConnectionStringBuilder(server.AdminConnectionString) { Database = name, Pooling = true }.ConnectionString;
    }

    private static async Task<PostgresServer> StartAsync()
    {
        if (Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } given)
        {
            return new PostgresServer(given);
        }

        var bin = FindBinaries() ?? throw new InvalidOperationException(
            $"These tests need PostgreSQL and found none: install it (Debian/Ubuntu: apt-get install postgresql; the tests start a throwaway " +
            $"cluster with its initdb and pg_ctl, no service), or set {Variable} to a connection string whose user may create databases.");
        var directory = Path.Combine(Path.GetTempPath(), "weseek-pg-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(directory);
        var data = Path.Combine(directory, "data");
        var port = FreePort();
        // initdb refuses to run as root: as root (CI), the cluster belongs to the package's postgres user.
        var asUser = Environment.UserName == "root" ? "postgres" : null;
        if (asUser is not null)
        {
            await RunAsync("chown", null, "-R", asUser, directory);
        }

        await RunAsync(Path.Combine(bin, "initdb"), asUser, "-D", data, "-U", "weseek", "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync");
        await RunAsync(Path.Combine(bin, "pg_ctl"), asUser, "-D", data, "-l", Path.Combine(directory, "log"), "-w", "-t", "60", "start", "-o",
            $"-p {port} -k {directory} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300");
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                RunAsync(Path.Combine(bin, "pg_ctl"), asUser, "-D", data, "-m", "immediate", "-w", "stop").GetAwaiter().GetResult();
            }
            catch (InvalidOperationException)
            {
                // Already gone.
            }

            try
            {
                Directory.Delete(directory, recursive: true);
            }
            catch (IOException)
            {
            }
        };
        return new PostgresServer($"Host=127.0.0.1;Port={port};Username=weseek;Database=postgres;Pooling=false");
    }

    /// <summary>The directory with initdb and pg_ctl: on PATH, else Debian's /usr/lib/postgresql/N/bin (newest).</summary>
    public static string? FindBinaries()
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator))
        {
            if (dir.Length > 0 && File.Exists(Path.Combine(dir, "initdb")) && File.Exists(Path.Combine(dir, "pg_ctl")))
            {
                return dir;
            }
        }

        const string debian = "/usr/lib/postgresql";
        return Directory.Exists(debian)
            ? Directory.GetDirectories(debian).Select(d => Path.Combine(d, "bin"))
                .Where(d => File.Exists(Path.Combine(d, "initdb")))
                .OrderByDescending(d => int.TryParse(Path.GetFileName(Path.GetDirectoryName(d)), out var v) ? v : 0)
                .FirstOrDefault()
            : null;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task RunAsync(string file, string? asUser, params string[] args)
    {
        var start = asUser is null ? new ProcessStartInfo(file) : new ProcessStartInfo("runuser");
        if (asUser is not null)
        {
            start.ArgumentList.Add("-u");
            start.ArgumentList.Add(asUser);
            start.ArgumentList.Add("--");
            start.ArgumentList.Add(file);
        }

        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.WorkingDirectory = Path.GetTempPath();
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{file} did not start.");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{Path.GetFileName(file)} {string.Join(' ', args)} exited {process.ExitCode}: {(await error).Trim()} {(await output).Trim()}");
        }
    }
}
