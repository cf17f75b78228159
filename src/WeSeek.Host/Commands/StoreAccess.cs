using Microsoft.Extensions.Options;
using WeSeek.Security;
using WeSeek.Storage;

namespace WeSeek.Host.Commands;

/// <summary>
/// The data directory as the operator's verbs see it (<c>weseek logs</c>, <c>weseek audit</c>): the same
/// configuration sources as <c>serve</c>, the database and the key ring, without the bot around them.
/// </summary>
internal static class StoreAccess
{
    public static ServiceProvider Build(string[] args, bool existing = false)
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = args, ContentRootPath = AppContext.BaseDirectory });
        builder.AddWeSeekConfiguration(args);
        if (existing && !string.Equals(builder.Configuration["Storage:Provider"], nameof(StorageProvider.Postgres), StringComparison.OrdinalIgnoreCase))
        {
            // A verb that only reads must not create an empty database (and a key file) where it happens to
            // look: a key listed or created there would belong to no running bot.
            var database = new StorageOptions { DataDirectory = builder.Configuration["Storage:DataDirectory"] ?? "" }.DatabasePath;
            if (!File.Exists(database))
            {
                throw new FileNotFoundException(
                    $"no WeSeek database at {database}. This command reads the data of an existing installation: name its directory with " +
                    $"--data DIR or the environment variable {DataLocation.HomeVariable} (weseek serve prints where it keeps its data).", database);
            }
        }

        var services = new ServiceCollection();
        // Only warnings, on stderr: stdout may be the export itself.
        services.AddLogging(logging => logging.AddConsole(console => console.LogToStandardErrorThreshold = LogLevel.Trace).SetMinimumLevel(LogLevel.Warning));
        services.AddSingleton<IConfiguration>(builder.Configuration);
        services.AddWeSeekStore(builder.Configuration);
        var provider = services.BuildServiceProvider();
        // Validate the sections now, so a bad key file is reported before anything is read.
        _ = provider.GetRequiredService<IOptions<StorageOptions>>().Value;
        _ = provider.GetRequiredService<IOptions<EncryptionOptions>>().Value;
        return provider;
    }

    /// <summary>Runs a verb's body, turning the errors an operator can fix into a message and exit code 2.</summary>
    /// <param name="args">Configuration flags.</param>
    /// <param name="action">The verb's body.</param>
    /// <param name="existing">True for verbs that only read (or change what exists): they refuse a data
    /// directory without a database, saying where they looked, instead of creating one.</param>
    public static async Task<int> RunAsync(string[] args, Func<ServiceProvider, Task<int>> action, bool existing = true)
    {
        try
        {
            await using var services = Build(args, existing);
            return await action(services);
        }
        catch (Exception ex) when (HostComposition.TryReportConfigurationError(ex))
        {
            return 2;
        }
        catch (Exception ex) when (ex is InvalidOperationException or FormatException or IOException or System.Security.Cryptography.CryptographicException or System.Data.Common.DbException)
        {
            await Console.Error.WriteLineAsync("weseek: " + ex.Message);
            return 2;
        }
    }
}
