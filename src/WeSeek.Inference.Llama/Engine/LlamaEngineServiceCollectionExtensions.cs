using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection.Extensions;
using WeSeek;
using WeSeek.Conversations;
using WeSeek.Configuration;
using WeSeek.Inference.Llama.Engine;
using WeSeek.Inference.Llama.Models;
using WeSeek.Inference.Reasoning;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the embedded llama.cpp engine.</summary>
public static class LlamaEngineServiceCollectionExtensions
{
    /// <summary>
    /// Uses the embedded engine (section <c>Model:Llama</c>) as the <see cref="IChatClient"/>. The chat-client
    /// pipeline is the reasoning split over the engine; the prompt opens the think block, so the split
    /// starts inside reasoning.
    /// </summary>
    public static IWeSeekBuilder AddLlamaEngine(this IWeSeekBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddSection<LlamaEngineOptions>(builder.Configuration, "Model:Llama");
        // A conversation's cells are planned for its window and its longest answer, as configured.
        builder.Services.AddOptions<LlamaEngineOptions>().Configure<Microsoft.Extensions.Options.IOptions<ContextOptions>, Microsoft.Extensions.Options.IOptions<WeSeek.Inference.ModelOptions>>(
            (llama, context, model) => llama.SequenceTokens ??= context.Value.MaxTokens + model.Value.MaxOutputTokens);
        builder.Services.AddSection<ModelsOptions>(builder.Configuration, "Models");
        builder.Services.AddHttpClient("WeSeek.Models");
        builder.Services.AddSingleton<LlamaModelResolver>();
        builder.Services.AddMetrics();
        builder.Services.TryAddSingleton(sp => new LlamaEngineMetrics(sp.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>()));
        builder.Services.AddSingleton<LlamaEngineHost>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<LlamaEngineHost>());
        builder.Services.AddHostedService<AdapterWatcher>();
        // Context windows in the model's own tokens (replaces the estimate AddWeSeek registers).
        builder.Services.Replace(ServiceDescriptor.Singleton<ITokenCounter, LlamaTokenCounter>());
        builder.Services.AddChatClient(sp => new LlamaChatClient(sp.GetRequiredService<LlamaEngineHost>()))
            .Use(inner => new ReasoningSplitChatClient(inner, ThinkStart.Open));
        return builder;
    }
}
