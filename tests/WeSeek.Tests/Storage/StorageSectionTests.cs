using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using WeSeek.Storage;

namespace WeSeek.Tests.Storage;

/// <summary>Section <c>Storage</c>: the options live in WeSeek.Abstractions and the check that Npgsql accepts the
/// connection string in the core; the operator still gets one message naming the key.</summary>
public sealed class StorageSectionTests
{
    [Fact]
    public void PostgresWithMalformedConnectionString_StopsStartUpNamingTheKey()
    {
        var error = Assert.Throws<OptionsValidationException>(() => Resolve(new() { ["Storage:Provider"] = "postgres", ["Storage:ConnectionString"] = "Database=weseek" }));

        Assert.Equal(["Storage:ConnectionString (environment variable WESEEK__Storage__ConnectionString): is not a PostgreSQL connection string: it names no Host"], error.Failures);
    }

    [Fact]
    public void PostgresWithoutConnectionString_StopsStartUpWithOneMessage()
    {
        var error = Assert.Throws<OptionsValidationException>(() => Resolve(new() { ["Storage:Provider"] = "postgres" }));

        Assert.Equal(["Storage:ConnectionString (environment variable WESEEK__Storage__ConnectionString): is required with Storage:Provider=postgres: Host=…;Database=…;Username=…;Password=…"], error.Failures);
    }

    [Fact]
    public void Sqlite_IgnoresTheConnectionString()
    {
        var options = Resolve(new() { ["Storage:ConnectionString"] = "Database=weseek" });

        Assert.Equal(StorageProvider.Sqlite, options.Provider);
    }

    private static StorageOptions Resolve(Dictionary<string, string?> settings)
    {
        var services = new ServiceCollection();
        services.AddStorageSection(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
        using var provider = services.BuildServiceProvider();
        return provider.GetRequiredService<IOptions<StorageOptions>>().Value;
    }
}
