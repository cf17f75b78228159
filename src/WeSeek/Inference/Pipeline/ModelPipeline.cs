using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using WeSeek.Operations;
using WeSeek.Security;

namespace WeSeek.Inference.Pipeline;

/// <summary>
/// The model path the turn pipeline calls: one <see cref="ChatClientBuilder"/> over whichever engine is registered
/// as the <see cref="IChatClient"/> (each engine registers itself with its reasoning split, which knows how that
/// engine opens <c>&lt;think&gt;</c>). Registered once, keyed <see cref="Key"/>, for every engine.
/// </summary>
internal static class ModelPipeline
{
    /// <summary>The service key of the model path (<c>[FromKeyedServices(ModelPipeline.Key)] IChatClient</c>).</summary>
    public const string Key = "weseek.model";

    /// <summary>The <see cref="ChatOptions.AdditionalProperties"/> key of the inbox id the call answers, for the
    /// audit record; the audit step takes it out before the engine sees the options.</summary>
    public const string InboxIdProperty = "weseek.inbox_id";

    /// <summary>
    /// The model path, outermost first (a builder's first <c>Use</c> is outermost). The order, and why:
    /// <list type="number">
    /// <item>OpenTelemetry: the GenAI client span (<c>chat {model}</c>, a child of the turn's span) and metrics
    /// (<c>gen_ai.client.*</c>) on the <c>WeSeek</c> source and meter that <c>/metrics</c> and the trace exporter
    /// read; content is never recorded;</item>
    /// <item>WeSeek's own measures (<see cref="ModelMetricsChatClient"/>);</item>
    /// <item>audit (<see cref="ModelAuditChatClient"/>): one record per call the turn makes, with the hash of the
    /// answer as the user gets it;</item>
    /// <item>function invocation: inside the three above, so that a tool-calling turn is still one span, one audit
    /// record and one duration (as a turn without tools), and so that it adds no span of its own between the
    /// turn and the model call; without <see cref="ChatOptions.Tools"/> it passes the call through;</item>
    /// <item>the engine, with its reasoning split (innermost: everything above sees reasoning apart from the
    /// answer).</item>
    /// </list>
    /// </summary>
    public static IServiceCollection AddModelPipeline(this IServiceCollection services)
    {
        services.AddKeyedChatClient(Key, sp => new Borrowed(sp.GetRequiredService<IChatClient>()))
            .UseOpenTelemetry(sourceName: WeSeekMetrics.MeterName)
            .Use((inner, sp) => new ModelMetricsChatClient(inner, sp.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), sp.GetRequiredService<TimeProvider>()))
            .Use((inner, sp) => new ModelAuditChatClient(inner, sp.GetRequiredService<AuditLog>(), sp.GetRequiredService<IOptionsMonitor<ModelOptions>>(), sp.GetRequiredService<TimeProvider>()))
            // As before the path existed: function calls are not logged (their arguments may hold what a user wrote).
            .UseFunctionInvocation(Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance);
        return services;
    }

    /// <summary>The engine as the path's innermost client: the container owns and disposes it, the path only
    /// borrows it.</summary>
    private sealed class Borrowed(IChatClient engine) : IChatClient
    {
        public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
            engine.GetResponseAsync(messages, options, cancellationToken);

        public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
            engine.GetStreamingResponseAsync(messages, options, cancellationToken);

        public object? GetService(Type serviceType, object? serviceKey = null) => engine.GetService(serviceType, serviceKey);

        public void Dispose()
        {
        }
    }
}
