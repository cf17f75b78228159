using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using WeSeek.Configuration;
using WeSeek.Storage.Postgres;

namespace WeSeek.Storage;

/// <summary>Binds <see cref="StorageOptions"/> (section <c>Storage</c>). The options live in WeSeek.Abstractions,
/// which does not carry Npgsql, so whether Npgsql accepts the connection string is checked here.</summary>
public static class StorageSection
{
    /// <summary>Binds and validates section <c>Storage</c> when the host starts.</summary>
    public static OptionsBuilder<StorageOptions> AddStorageSection(this IServiceCollection services, IConfiguration configuration) =>
        services.AddSection<StorageOptions>(configuration, "Storage", ConnectionStringErrors);

    private static IEnumerable<ValidationResult> ConnectionStringErrors(StorageOptions options)
    {
        if (options.Provider == StorageProvider.Postgres && !string.IsNullOrWhiteSpace(options.ConnectionString)
            && PostgresDatabase.ConnectionStringError(options.ConnectionString) is { } error)
        {
            yield return new ValidationResult("is not a PostgreSQL connection string: " + error, [nameof(StorageOptions.ConnectionString)]);
        }
    }
}
