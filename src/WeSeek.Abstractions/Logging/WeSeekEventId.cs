namespace WeSeek.Logging;

/// <summary>
/// Every log event id in WeSeek, allocated by range as Npgsql does: 1000s channels, 2000s inbox and outbox,
/// 3000s pipeline, 4000s inference, 5000s knowledge and plugins, 6000s security, 7000s storage, 9000s host.
/// 1100-1199 belong to WeSeek.Channels (<c>WeSeek.Channels.ChannelEventId</c>, its own registry),
/// and so do 1300-1399 (its iLink channel).
/// Next free ids: 1003, 2013, 3011, 3063, 4007, 4105, 4115, 4156, 5005, 5013, 6006, 6102, 7006, 9013, 9031 (1100-1199: WeSeek.Channels' own registry).
/// </summary>
public static class WeSeekEventId
{
    public const int ChannelStarted = 1000;
    public const int ChannelStopped = 1001;
    public const int ChannelStartFailed = 1002;

    public const int InboxStored = 2000;
    public const int InboxDuplicate = 2001;
    public const int TurnStarted = 2002;
    public const int TurnCompleted = 2003;
    public const int TurnFailed = 2004;
    public const int TurnGaveUp = 2005;
    public const int DispatcherDraining = 2006;
    public const int OutboxSent = 2007;
    public const int OutboxSendFailed = 2008;
    public const int OutboxGaveUp = 2009;
    public const int OutboxDailyCapReached = 2010;
    public const int OutboxUnknownChannel = 2011;
    public const int DispatcherDrainTimedOut = 2012;

    public const int CommandHandled = 3000;
    public const int ContextCompacted = 3001;
    public const int ModelCutOff = 3002;
    public const int GuardDailyCap = 3003;
    public const int NoReply = 3004;
    public const int ContextReset = 3005;
    public const int ReplyTruncated = 3006;
    public const int ContinuationServed = 3007;
    public const int GuardQuota = 3010;
    public const int MediaFetched = 3008;
    public const int MediaUnavailable = 3009;
    public const int MessageTooLong = 3050;

    // 3060-3069: users' feedback on answers.
    public const int FeedbackRecorded = 3060;
    public const int FeedbackWithoutAnswer = 3061;
    public const int FeedbackAnswerNotKept = 3062;

    public const int ModelCall = 4000;
    public const int ModelCallFailed = 4001;
    public const int RemoteEngineConfigured = 4002;
    public const int RemoteEngineUnreachable = 4003;
    public const int RemoteEngineRefused = 4004;
    public const int ReplicaDown = 4005;
    public const int ReplicaUp = 4006;

    // 4100s: the embedded llama.cpp engine (WeSeek.Inference.Llama).
    public const int LlamaSchedulerFailed = 4100;
    public const int LlamaDecodeFailed = 4101;
    public const int LlamaAttachFailed = 4102;
    public const int LlamaPreempted = 4103;
    public const int LlamaBackendSamplingUnavailable = 4104;
    public const int LlamaModelLoaded = 4110;
    public const int LlamaSyntheticModel = 4111;
    public const int LlamaPulling = 4112;
    public const int LlamaPullProgress = 4113;
    public const int LlamaPullFailed = 4114;
    public const int LlamaParkSpillFailed = 4130;
    public const int LlamaParkRestoreFailed = 4131;
    public const int LlamaParkStateRejected = 4132;
    public const int LlamaParkAbandonedRemoved = 4133;

    // 4150-4169: LoRA adapters and model switches in the embedded engine.
    public const int LlamaAdaptersChanged = 4150;
    public const int LlamaAdapterRefused = 4151;
    public const int LlamaAdaptersReloaded = 4152;
    public const int LlamaAdapterReloadFailed = 4153;
    public const int LlamaModelSwitched = 4154;
    public const int LlamaModelSwitchRefused = 4155;

    public const int DatabaseOpened = 7000;
    public const int DatabaseMigrated = 7001;
    public const int PostgresOpened = 7002;
    public const int DatabaseUnavailable = 7003;
    public const int DispatcherDatabaseUnavailable = 7004;
    public const int PostgresListenLost = 7005;

    public const int HostStarting = 9000;
    public const int HostListening = 9001;
    public const int InvalidConfiguration = 9002;
    public const int HostStopped = 9003;
    public const int AccessDenied = 9004;
    public const int QueueDepthFailed = 9005;
    public const int GpuFound = 9006;
    public const int DataDirectory = 9007;
    public const int UnknownSetting = 9008;
    public const int HostRefused = 9010;
    public const int ConsoleUploadRefused = 9011;
    public const int ConsoleDocumentChanged = 9012;
    public const int DailyCapCountFailed = 9030;

    public const int ModerationHit = 6100;
    public const int ModerationServiceFailed = 6101;

    // 6000s: security (encryption at rest, audit log, redaction, health).
    public const int EncryptionKeyFileCreated = 6000;
    public const int EncryptionKeysLoaded = 6001;
    public const int AuditConfigurationRecorded = 6002;
    public const int AuditAppendFailed = 6003;
    public const int AdminKeyRefused = 6004;
    public const int AdminRoleRefused = 6005;
    public const int EncryptionKeyFilePermissive = 6010;

    // 5000s: plugins and the knowledge base.
    public const int PluginFailed = 5000;
    public const int PluginTimedOut = 5001;
    public const int PluginAnswered = 5002;
    public const int PluginContributed = 5003;
    public const int PluginToggled = 5004;
    public const int KnowledgeIndexed = 5010;
    public const int KnowledgeRemoved = 5011;
    public const int KnowledgeSearchFailed = 5012;
    public const int IntentRecognised = 5040;
    public const int IntentModelFailed = 5041;
    public const int IntentModelTimedOut = 5042;
    public const int IntentUnparsed = 5043;
    public const int PluginCommandFailed = 5044;

    // 5060-5079: knowledge base formats and image understanding (3040-3049: media).
    public const int KnowledgeUnreadable = 5060;
    public const int ImageDescribed = 5061;
    public const int ImageDescriptionFailed = 5062;
    public const int ImageDescriptionTimedOut = 5063;
    public const int ImageAnswered = 5064;

    // 5020-5039: the SQL and HTTP plugins.
    public const int SqlQueried = 5020;
    public const int SqlSlotsMissing = 5021;
    public const int HttpEndpointCalled = 5030;
    public const int HttpSlotsMissing = 5031;
}
