using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using WeSeek;
using WeSeek.Configuration;
using WeSeek.Plugins.Sql;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the SQL plugin.</summary>
public static class SqlPluginServiceCollectionExtensions
{
    /// <summary>True when section <c>Plugins:Sql:Queries</c> names at least one query.</summary>
    public static bool HasSqlPlugin(this IConfiguration configuration) =>
        configuration.GetSection("Plugins:Sql:Queries").GetChildren().Any();

    /// <summary>
    /// Adds plugin <c>sql</c> (section <c>Plugins:Sql</c>). Every query is checked against the database when the
    /// host starts; one that is refused stops start-up, naming its key and the reason.
    /// </summary>
    public static IWeSeekBuilder AddSqlPlugin(this IWeSeekBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddSection<SqlPluginOptions>(builder.Configuration, "Plugins:Sql");
        builder.Services.AddSingleton<IValidateOptions<SqlPluginOptions>, SqlPluginValidator>();
        return builder.AddPlugin<SqlPlugin>();
    }
}
