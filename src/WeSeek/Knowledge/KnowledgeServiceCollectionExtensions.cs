using Microsoft.Extensions.DependencyInjection.Extensions;
using WeSeek;
using WeSeek.Configuration;
using WeSeek.Knowledge;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the knowledge base.</summary>
public static class KnowledgeServiceCollectionExtensions
{
    /// <summary>
    /// Adds the knowledge base (section <c>Knowledge</c>) and its plugin <c>kb</c>. With no documents added it
    /// contributes nothing.
    /// </summary>
    public static IWeSeekBuilder AddKnowledgeBase(this IWeSeekBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddKnowledgeIndex(builder.Configuration);
        return builder.AddPlugin<KnowledgeBasePlugin>();
    }

    /// <summary>Only the index, for the <c>kb</c> verbs (after the <c>Storage</c> section).</summary>
    public static IServiceCollection AddKnowledgeIndex(this IServiceCollection services, Microsoft.Extensions.Configuration.IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.TryAddSingleton(TimeProvider.System);
        services.AddSection<KnowledgeOptions>(configuration, "Knowledge");
        services.TryAddSingleton<KnowledgeIndex>();
        return services;
    }
}
