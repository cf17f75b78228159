using WeSeek.Security;
using WeSeek.Storage;

namespace WeSeek.Host.Commands;

/// <summary>
/// The data directory as the operator's verbs see it (<c>weseek logs</c>, <c>weseek audit</c>): the same
/// configuration sources as <c>serve</c>, the database and the key ring, without the bot around them.
/// </summary>
internal static class StoreAccess
{
    private static async Task<VerbHost> BuildAsync(string[] args, bool existing)
    {
        var builder = HostComposition.CreateBuilder(args);
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

        builder.Services.AddWeSeekStore(builder.Configuration);
        // Built, the host has validated Storage and Security:Encryption: a bad key file is reported before anything is read.
        return await builder.BuildHostAsync();
    }

    /// <summary>Runs a verb's body, turning the errors an operator can fix into a message and exit code 2.</summary>
    /// <param name="args">Configuration flags.</param>
    /// <param name="action">The verb's body.</param>
    /// <param name="existing">True for verbs that only read (or change what exists): they refuse a data
    /// directory without a database, saying where they looked, instead of creating one.</param>
    public static async Task<int> RunAsync(string[] args, Func<IServiceProvider, Task<int>> action, bool existing = true)
    {
        try
        {
            await using var host = await BuildAsync(args, existing);
            return await action(host.Services);
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
