using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using WeSeek;
using WeSeek.Commands;
using WeSeek.Configuration;
using WeSeek.Conversations;
using WeSeek.Health;
using WeSeek.Hosting;
using WeSeek.Inbox;
using WeSeek.Inference;
using WeSeek.Inference.Pipeline;
using WeSeek.Inference.Remote;
using WeSeek.Intents;
using WeSeek.Media;
using WeSeek.Messaging;
using WeSeek.Moderation;
using WeSeek.Operations;
using WeSeek.Outbox;
using WeSeek.Pipeline;
using WeSeek.Quotas;
using WeSeek.Plugins;
using WeSeek.Replies;
using WeSeek.Security;
using WeSeek.Storage;
using WeSeek.Storage.Postgres;
using WeSeek.Storage.Sql;
using WeSeek.Storage.Sqlite;
using WeSeek.Streaming;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers WeSeek's core: storage, inbox, turn pipeline, outbox.</summary>
public static class WeSeekServiceCollectionExtensions
{
    /// <summary>
    /// Adds the durable flow (SQLite inbox and outbox, turn dispatcher, outbox sender, channel host) and the
    /// standard turn pipeline. Add an engine (<see cref="AddRemoteEngine"/>) and channels on the returned builder.
    /// </summary>
    public static IWeSeekBuilder AddWeSeek(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.TryAddSingleton(TimeProvider.System);
        // Every component's instruments come from the container's meter factory and are disposed with it.
        services.AddMetrics();
        services.TryAddSingleton<WeSeekMetrics>();
        services.TryAddSingleton<ReplyInstruments>();

        services.AddStorageSection(configuration);
        AddStoreDatabase(services);
        // Before anything touches the store: a database that cannot be used stops start-up with one line.
        services.AddHostedService<StorageStartup>();
        // Other instances' signals on a shared database (PostgreSQL LISTEN/NOTIFY); idle on SQLite.
        services.AddHostedService<PostgresNotifications>();
        services.AddSection<DispatcherOptions>(configuration, "Dispatcher");
        services.AddSection<OutboxOptions>(configuration, "Outbox")
            .Validate(o => TimeZones.Exists(o.DailyCapTimeZone), "Outbox:DailyCapTimeZone (environment variable WESEEK__Outbox__DailyCapTimeZone): unknown time zone; use an IANA name such as Asia/Shanghai");
        services.AddSection<ContextOptions>(configuration, "Context")
            .Validate(o => TimeZones.Exists(o.TimeZone), "Context:TimeZone (environment variable WESEEK__Context__TimeZone): unknown time zone; use an IANA name such as Asia/Shanghai");
        services.AddSection<ModelOptions>(configuration, "Model");
        services.AddSection<ComposerOptions>(configuration, "Composer");
        services.AddSection<MediaOptions>(configuration, "Media");
        services.AddSection<VisionOptions>(configuration, "Vision");
        services.AddHttpClient(ImageDescriber.HttpClientName);
        ImageDescriber.AddVisionClient(services);
        services.TryAddSingleton<IImageDescriptionStore, ImageDescriptionCache>();
        services.TryAddSingleton<ImageDescriber>();
        services.AddSection<QuotaOptions>(configuration, "Quota");
        services.AddSection<ModerationOptions>(configuration, "Moderation");
        services.AddSection<PluginOptions>(configuration, "Plugins");
        services.AddSection<IntentOptions>(configuration, "Intents");
        services.AddSection<WeSeek.Feedback.FeedbackOptions>(configuration, "Feedback");
        services.TryAddSingleton<IEmbeddingGenerator<string, Embedding<float>>, CharacterNGramEmbeddings>();
        services.TryAddSingleton<IntentRecognizer>();
        // The filter is resolved per turn from WordLists, so a list edited in the console applies from the next turn.
        services.TryAddSingleton<WordLists>();
        services.TryAddScoped(sp => sp.GetRequiredService<WordLists>().Current);
        services.TryAddSingleton<ExternalModeration>();
        services.AddHttpClient(ExternalModeration.HttpClientName);
        services.AddSecurity(configuration);

        services.TryAddSingleton<ITurnStore, TurnStore>();
        services.TryAddSingleton<GroupWindow>();
        services.TryAddSingleton<IOutboxStore, OutboxStore>();
        services.TryAddSingleton<IConversationStore, ConversationStore>();
        services.TryAddSingleton<IContinuationStore, ContinuationStore>();
        services.TryAddSingleton<DispatchSignal>();
        services.TryAddSingleton<OutboxSignal>();
        services.TryAddSingleton<DailyCapCalendar>();
        services.TryAddSingleton<IInboxStore, InboxStore>();
        services.TryAddSingleton<DurableInbox>();
        services.TryAddSingleton<IInboundSink>(sp => sp.GetRequiredService<DurableInbox>());
        services.TryAddSingleton<ITranscriptReader, DurableTranscriptReader>();
        services.TryAddSingleton<IChatEraser, ChatEraser>();
        services.TryAddSingleton<IReplyStreamHub, ReplyStreamHub>();
        services.TryAddSingleton<ITokenCounter, EstimatingTokenCounter>();
        services.TryAddSingleton<ChannelRegistry>();
        services.TryAddSingleton<IOperatorNotices, OperatorNotices>();
        services.TryAddSingleton<TurnCompletions>();
        services.TryAddSingleton<ChatSendGate>();
        services.TryAddSingleton<QueueDepths>();
        services.AddHostedService(sp => sp.GetRequiredService<QueueDepths>());
        services.TryAddSingleton<DailyCapUsage>();
        services.AddHostedService(sp => sp.GetRequiredService<DailyCapUsage>());
        AddGpuMemoryMetrics(services);
        // The console's charts: the last hour and day of the metrics above, in memory.
        services.TryAddSingleton<MetricsHistory>();
        services.AddHostedService(sp => sp.GetRequiredService<MetricsHistory>());
        services.TryAddSingleton<PluginCatalog>();
        services.TryAddSingleton<IPluginSettingsStore, PluginSettingsStore>();
        services.TryAddSingleton<IReplyClaims, OutboxReplyClaims>();
        services.TryAddSingleton<WeSeek.Feedback.IFeedbackStore, FeedbackStore>();
        services.TryAddSingleton<WeSeek.Feedback.IAnswerFeedback, WeSeek.Feedback.AnswerFeedbackService>();
        AddChannelStateServices(services);

        services.TryAddScoped<OutboxMiddleware>();
        services.TryAddScoped<QuotaMiddleware>();
        services.TryAddScoped<CommandMiddleware>();
        services.TryAddScoped<WeSeek.Feedback.FeedbackMiddleware>();
        services.TryAddScoped<ContextMiddleware>();
        services.AddModelPipeline();
        services.TryAddScoped<ModelMiddleware>();
        services.TryAddScoped<ComposerMiddleware>();
        services.TryAddScoped<ContinuationMiddleware>();
        services.TryAddScoped<MediaMiddleware>();
        services.TryAddScoped<VisionMiddleware>();
        services.TryAddScoped<ModerationMiddleware>();
        services.TryAddScoped<PluginMiddleware>();
        services.TryAddScoped<IntentMiddleware>();
        services.TryAddSingleton(_ => new TurnPipeline(BuildStandardPipeline().Build()));

        // Hosted services start in this order and stop in reverse: channels stop accepting first, then the
        // dispatcher drains running turns, then the sender finishes its pass.
        services.TryAddSingleton<OutboxSender>();
        services.TryAddSingleton<TurnDispatcher>();
        services.AddHostedService(sp => sp.GetRequiredService<OutboxSender>());
        services.AddHostedService(sp => sp.GetRequiredService<TurnDispatcher>());
        services.AddHostedService<ChannelHost>();
        return new WeSeekBuilder(services, configuration);
    }

    /// <summary>
    /// Encryption at rest (section <c>Security:Encryption</c>), the audit log with its start-up record of the
    /// configuration, and the storage health check. Part of <see cref="AddWeSeek"/>; the logs and audit verbs
    /// call it alone (after the <c>Storage</c> section) to read a data directory without running the bot.
    /// </summary>
    public static IServiceCollection AddSecurity(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.TryAddSingleton(TimeProvider.System);
        AddRecordCipher(services, configuration);
        AddStoreDatabase(services);
        services.TryAddSingleton<IAuditStore, AuditStore>();
        services.TryAddSingleton<AuditLog>();
        services.TryAddSingleton<IAdminKeyStore, AdminKeyStore>();
        services.TryAddSingleton<AdminKeys>();
        services.TryAddSingleton<IInboxStore, InboxStore>();
        services.TryAddSingleton<TranscriptExport>();
        services.AddHostedService(sp => new ConfigurationAudit(configuration, sp.GetRequiredService<AuditLog>(), sp.GetRequiredService<Microsoft.Extensions.Logging.ILogger<ConfigurationAudit>>()));
        services.AddHealthChecks()
            .AddCheck<StorageHealthCheck>("storage", tags: [HealthTags.Ready])
            .AddCheck<EngineHealthCheck>("engine", tags: [HealthTags.Ready]);
        return services;
    }

    /// <summary>
    /// Only what an engine needs (clock, storage and model options), for a host that serves a model
    /// without the bot around it (<c>weseek model serve</c>). Add an engine on the returned builder.
    /// </summary>
    public static IWeSeekBuilder AddWeSeekInference(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.TryAddSingleton(TimeProvider.System);
        services.AddStorageSection(configuration);
        services.AddSection<ModelOptions>(configuration, "Model");
        services.TryAddSingleton<IOperatorNotices, OperatorNotices>();
        services.AddMetrics();
        // The engine is where the GPU is: its memory is exported there too.
        AddGpuMemoryMetrics(services);
        return new WeSeekBuilder(services, configuration);
    }

    private static void AddGpuMemoryMetrics(IServiceCollection services)
    {
        services.TryAddSingleton<IGpuMemorySource, NvmlGpuMemorySource>();
        services.TryAddSingleton<GpuMemoryMetrics>();
        services.AddHostedService(sp => sp.GetRequiredService<GpuMemoryMetrics>());
    }

    /// <summary>
    /// Only the durable channel state (<see cref="IChannelStateStore"/>, <see cref="IChannelLease"/>) on the
    /// embedded database, for a verb that logs a channel in without running the bot (<c>weseek login weixin</c>).
    /// </summary>
    public static IServiceCollection AddWeSeekChannelState(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.TryAddSingleton(TimeProvider.System);
        services.AddStorageSection(configuration);
        AddStoreDatabase(services);
        services.TryAddSingleton<IOperatorNotices, OperatorNotices>();
        // The state holds login tokens: encrypted with the same keys as everything else.
        AddRecordCipher(services, configuration);
        AddChannelStateServices(services);
        return services;
    }

    /// <summary>The configured <see cref="StoreDatabase"/> (<c>Storage:Provider</c>): SQLite in the data
    /// directory, or PostgreSQL at <c>Storage:ConnectionString</c>.</summary>
    private static void AddStoreDatabase(IServiceCollection services)
    {
        services.TryAddSingleton(sp => InstanceIdentity.For(sp.GetRequiredService<IOptions<StorageOptions>>().Value));
        services.TryAddSingleton<SqliteDatabase>();
        services.TryAddSingleton<StoreDatabase>(sp => sp.GetRequiredService<IOptions<StorageOptions>>().Value.Provider == StorageProvider.Postgres
            ? ActivatorUtilities.CreateInstance<PostgresDatabase>(sp)
            : sp.GetRequiredService<SqliteDatabase>());
    }

    /// <summary>The key ring (Security:Encryption) and the cipher that encrypts stored records with it.</summary>
    private static void AddRecordCipher(IServiceCollection services, IConfiguration configuration)
    {
        if (services.Any(d => d.ServiceType == typeof(RecordCipher)))
        {
            return;
        }

        services.AddSection<EncryptionOptions>(configuration, "Security:Encryption");
        services.AddSingleton<IValidateOptions<EncryptionOptions>, KeyRingLoader>();
        services.TryAddSingleton(sp => KeyRingLoader.Create(
            sp.GetRequiredService<IOptions<EncryptionOptions>>(), sp.GetRequiredService<IOptions<StorageOptions>>(), sp.GetRequiredService<Microsoft.Extensions.Logging.ILogger<KeyRing>>()));
        services.TryAddSingleton<RecordCipher>();
    }

    private static void AddChannelStateServices(IServiceCollection services)
    {
        services.TryAddSingleton<DurableChannelState>();
        services.TryAddSingleton<IChannelStateStore>(sp => sp.GetRequiredService<DurableChannelState>());
        services.TryAddSingleton<IChannelLease>(sp => sp.GetRequiredService<DurableChannelState>());
    }

    /// <summary>
    /// The standard turn pipeline, outermost first. The order, and why:
    /// <list type="number">
    /// <item>outbox: outermost, so whatever the inner steps produced (also when one short-circuits) is stored
    /// in one transaction with the message marked done;</item>
    /// <item>guard: quotas first, so no work is done for an answer that could not be sent;</item>
    /// <item>moderation: the incoming text before anything reads it, and everything produced inside before the
    /// outbox step stores it;</item>
    /// <item>feedback: 「👍」「👎」 rate the last answer and end the turn (never a question for the model); for every
    /// other turn it keeps the answer, with the prompt as the model was given it, so that it can be rated;</item>
    /// <item>commands: answered without context or model;</item>
    /// <item>continuation: 「继续」 takes the next waiting page of a long answer, without the model;</item>
    /// <item>media: fetches the message's images through its channel for the steps after it;</item>
    /// <item>vision: describes them (Vision:Endpoint); a picture alone is answered with its description here, a
    /// question goes on with the descriptions for the context step;</item>
    /// <item>intents: what the message asks for (rules, classifier, the model in JSON), for the plugins;</item>
    /// <item>plugins: after commands (so <c>/plugins off</c> always works) and media (a plugin may use the images),
    /// before context, because what they contribute goes into the prompt; a direct answer ends the turn here;</item>
    /// <item>context: loads and compacts the window, renders the prompt;</item>
    /// <item>model: calls the model path (<see cref="ModelPipeline"/>: tools, telemetry, audit, the engine's reasoning split);</item>
    /// <item>composer: splits the answer for the channel; the outbox step stores the result.</item>
    /// </list>
    /// </summary>
    public static TurnPipelineBuilder BuildStandardPipeline() => new TurnPipelineBuilder()
        .Use<OutboxMiddleware>()
        .Use<QuotaMiddleware>()
        .Use<ModerationMiddleware>()
        .Use<WeSeek.Feedback.FeedbackMiddleware>()
        .Use<CommandMiddleware>()
        .Use<ContinuationMiddleware>()
        .Use<MediaMiddleware>()
        .Use<VisionMiddleware>()
        .Use<IntentMiddleware>()
        .Use<PluginMiddleware>()
        .Use<ContextMiddleware>()
        .Use<ModelMiddleware>()
        .Use<ComposerMiddleware>();

    /// <summary>
    /// Uses an OpenAI-compatible server, or several replicas of one (section <c>Model:Remote</c>), as the engine.
    /// The chat-client pipeline is the reasoning split, then (with replicas) the router that keeps each
    /// conversation on one healthy replica, then the conversation sent as a hashed <c>user</c> (so a server's
    /// per-conversation KV cache hits), then the server; failures are logged once, by the dispatcher that
    /// retries them.
    /// </summary>
    public static IWeSeekBuilder AddRemoteEngine(this IWeSeekBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddSection<RemoteEngineOptions>(builder.Configuration, "Model:Remote");
        builder.Services.AddHttpClient(RemoteEngineFactory.HttpClientName);
        builder.Services.AddHostedService<RemoteEngineProbe>();
        builder.Services.AddSingleton(sp => new ReplicaRouter(
            sp.GetRequiredService<IOptions<RemoteEngineOptions>>().Value.Endpoints,
            sp.GetRequiredService<Microsoft.Extensions.Logging.ILogger<ReplicaRouter>>()));
        builder.Services.TryAddSingleton<IEngineReadiness, RemoteEngineReadiness>();
        builder.Services.AddChatClient(RemoteEngineFactory.Create)
            .UseReasoningSplit(sp => sp.GetRequiredService<IOptions<RemoteEngineOptions>>().Value.ThinkStart);
        return builder;
    }

    /// <summary>Adds a channel instance.</summary>
    public static IWeSeekBuilder AddChannel<TChannel>(this IWeSeekBuilder builder) where TChannel : class, IChannel
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.TryAddSingleton<TChannel>();
        builder.Services.AddSingleton<IChannel>(sp => sp.GetRequiredService<TChannel>());
        return builder;
    }

    /// <summary>
    /// Adds a plugin (one instance for all chats). It is on in every chat unless listed in
    /// <c>Plugins:OffByDefault</c>; users switch it with <c>/plugins on|off &lt;name&gt;</c>.
    /// </summary>
    public static IWeSeekBuilder AddPlugin<TPlugin>(this IWeSeekBuilder builder) where TPlugin : class, IWeSeekPlugin
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.TryAddSingleton<TPlugin>();
        builder.Services.AddSingleton<IWeSeekPlugin>(sp => sp.GetRequiredService<TPlugin>());
        return builder;
    }

    private sealed class WeSeekBuilder(IServiceCollection services, IConfiguration configuration) : IWeSeekBuilder
    {
        public IServiceCollection Services { get; } = services;

        public IConfiguration Configuration { get; } = configuration;
    }
}
