using System.ComponentModel.DataAnnotations;

namespace WeSeek.Channels.OneBot;

/// <summary>Who opens the WebSocket between WeSeek and the OneBot 12 implementation.</summary>
public enum OneBotMode
{
    /// <summary>The implementation connects to WeSeek's <c>/onebot/v12/ws</c> (反向 WebSocket). The default.</summary>
    Reverse,

    /// <summary>WeSeek connects to the implementation's WebSocket server at <see cref="OneBotOptions.ForwardUrl"/> (正向 WebSocket).</summary>
    Forward,
}

/// <summary>A OneBot 12 implementation (ComWeChatBotClient for personal WeChat, or any QQ one) as a channel.
/// Section <c>OneBot</c>.</summary>
public sealed class OneBotOptions
{
    /// <summary>Run the channel. Default false.</summary>
    public bool Enabled { get; set; }

    /// <summary>Reverse (the implementation connects to WeSeek) or Forward (WeSeek connects to it). Default Reverse.</summary>
    public OneBotMode Mode { get; set; } = OneBotMode.Reverse;

    /// <summary>The shared <c>access_token</c>, configured the same on the implementation's side. Required: without
    /// it anyone who reaches the endpoint could speak as WeChat users.</summary>
    public string? AccessToken { get; set; }

    /// <summary>The bot's own user id (wxid, QQ number), which a group mention must name. Optional: by default
    /// it is taken from each event's <c>self.user_id</c>, or, for events without <c>self</c>, from the answer to
    /// <c>get_self_info</c>, asked after every <c>meta.connect</c>. Set, it is used as is and never asked for.</summary>
    public string? SelfId { get; set; }

    /// <summary>The implementation's WebSocket URL in Forward mode (<c>ws://127.0.0.1:8000/</c>).</summary>
    public Uri? ForwardUrl { get; set; }

    /// <summary>How long an action (<c>send_message</c>, <c>get_self_info</c>, <c>get_status</c>) may wait for
    /// its response. Default 10 s; after that a send fails and the outbox retries it, and a status reads as not
    /// responding.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:05:00")]
    public TimeSpan ActionTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>A group message is answered when it mentions the bot or starts with this prefix. Default <c>/ai</c>;
    /// empty for mentions only.</summary>
    [MaxLength(32)]
    public string GroupPrefix { get; set; } = "/ai";

    /// <summary>A group message containing any of these words (case-insensitive) is answered too, whole, with
    /// the keyword kept (it is part of the question). Default none: keywords fire on ordinary chatter, so an
    /// operator opts in per deployment (<c>OneBot:GroupKeywords:0=翻译</c>).</summary>
    public IList<string> GroupKeywords { get; set; } = [];

    /// <summary>The groups (<c>group_id</c>, e.g. <c>123@chatroom</c>) the bot serves. Default empty: every group
    /// the account is in. When not empty, messages from any other group are dropped before the inbox (not
    /// stored, not answered, not part of any context); the first from each such group is logged at Debug and
    /// all are counted in <c>OneBotChannel.IgnoredGroupMessages</c>.</summary>
    public IList<string> AllowedGroups { get; set; } = [];

    /// <summary>Longest text of one message, in characters. Default 2,000.</summary>
    [Range(100, 10_000)]
    public int MaxTextLength { get; set; } = 2000;

    /// <summary>A connection that sends nothing for this many heartbeat intervals (<c>meta.heartbeat</c>'s
    /// <c>interval</c>) is closed as dead. Default 3.</summary>
    [Range(2, 100)]
    public int HeartbeatMisses { get; set; } = 3;

    /// <summary>First wait before reconnecting in Forward mode; doubles per failure with ±50 % jitter. Default 1 s.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "00:10:00")]
    public TimeSpan ReconnectDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Longest wait between reconnections in Forward mode. Default 60 s.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "01:00:00")]
    public TimeSpan MaxReconnectDelay { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How long the forward connection's lease lasts without renewal: with several instances on one
    /// database only the holder connects to the implementation, renewing every third of this, and another takes
    /// over within this time (plus <see cref="LeaseRetryInterval"/>) when it dies. Default 30 s: a few of the
    /// implementation's heartbeats, and short next to WeChat users' patience.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:30:00")]
    public TimeSpan LeaseTtl { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often an instance without the forward connection's lease tries to take it. Default 5 s.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:10:00")]
    public TimeSpan LeaseRetryInterval { get; set; } = TimeSpan.FromSeconds(5);
}
