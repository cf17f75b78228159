using System.ComponentModel.DataAnnotations;

namespace WeSeek.Channels.ILink;

/// <summary>Personal WeChat through Tencent's iLink bot API (微信 ClawBot). Section <c>ILink</c>. The account logs
/// in by QR code (<c>weseek login weixin</c>); its token lives in the data directory's store, not here.</summary>
public sealed class ILinkOptions
{
    /// <summary>Run the channel. Default false: it needs a logged-in account, and a personal account is an
    /// operator's deliberate choice.</summary>
    public bool Enabled { get; set; }

    /// <summary>The account's name, in the channel id (<c>ilink:{Account}</c>) and the store. Default
    /// <c>default</c>; lower-case letters, digits, '-' or '_'.</summary>
    [Required]
    public string Account { get; set; } = "default";

    /// <summary>Another logged-in account (<c>weseek login weixin --account NAME</c>) that answers while this
    /// one is not logged in or its session expired (<c>errcode -14</c>). Default none. It is a different bot
    /// contact: people reach it by writing to it.</summary>
    public string? BackupAccount { get; set; }

    /// <summary>Where QR login starts. Default <c>https://ilinkai.weixin.qq.com</c>, the published base URL;
    /// after login the API host the server names (<c>baseurl</c>) is used. Tests point it at a fake.</summary>
    [Required]
    public Uri BaseUrl { get; set; } = new("https://ilinkai.weixin.qq.com");

    /// <summary>The CDN for images and files. Default <c>https://novac2c.cdn.weixin.qq.com/c2c</c>, the published
    /// one; a URL the server gives (<c>full_url</c>, <c>upload_full_url</c>) takes precedence.</summary>
    [Required]
    public Uri CdnBaseUrl { get; set; } = new("https://novac2c.cdn.weixin.qq.com/c2c");

    /// <summary>Largest file uploaded or downloaded, in bytes. Default 25 MiB: WeChat's own limit for an
    /// image is lower, a file's higher; an answer's media is small, and a download is held in memory.</summary>
    [Range(1024, 1024L * 1024 * 1024)]
    public long MaxMediaBytes { get; set; } = 25L * 1024 * 1024;

    /// <summary>How long a <c>getupdates</c> long-poll may take before the client gives up and polls again,
    /// until the server suggests its own (<c>longpolling_timeout_ms</c> + 5 s). Default 40 s: the server holds
    /// a poll for 35 s, plus the way back.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:05:00")]
    public TimeSpan LongPollTimeout { get; set; } = TimeSpan.FromSeconds(40);

    /// <summary>Timeout of every other call (send, typing, login). Default 15 s.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:02:00")]
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Longest text of one message, in characters. Default 2,000: iLink cuts longer text silently
    /// (anchors.md §4.1).</summary>
    [Range(100, 4000)]
    public int MaxTextLength { get; set; } = 2000;

    /// <summary>Most messages sent with one inbound <c>context_token</c>. Default 10: iLink stops delivering
    /// after about ten (anchors.md §4.1). A send over the budget fails permanently and is logged.</summary>
    [Range(1, 100)]
    public int MaxSendsPerContextToken { get; set; } = 10;

    /// <summary>How long a <c>context_token</c> can be answered with. Default 24 h: iLink stops accepting it a day
    /// after the user's last message (openclaw-weixin #202). A send after that fails permanently.</summary>
    [Range(typeof(TimeSpan), "00:01:00", "7.00:00:00")]
    public TimeSpan ContextTokenLifetime { get; set; } = TimeSpan.FromHours(24);

    /// <summary>Show "对方正在输入" while the model thinks. Default true.</summary>
    public bool Typing { get; set; } = true;

    /// <summary>How often the typing status is sent again while the answer is not ready. Default 5 s: the
    /// status fades after a few seconds without a keep-alive.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:01:00")]
    public TimeSpan TypingKeepAlive { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Longest the typing status is kept up for one message. Default 3 min: a long think still shows,
    /// a turn that failed does not type forever.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:30:00")]
    public TimeSpan TypingMax { get; set; } = TimeSpan.FromMinutes(3);

    /// <summary>How long the poller's lease lasts without renewal. Default 90 s: above one long-poll (40 s) with
    /// room for a slow batch; a process that dies is replaced within this time.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:30:00")]
    public TimeSpan LeaseTtl { get; set; } = TimeSpan.FromSeconds(90);

    /// <summary>How often a process without the lease tries again. Default 15 s.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:10:00")]
    public TimeSpan LeaseRetryInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>First wait after a failed or rate-limited call (<c>ret=-2</c>); doubles per failure, with ±50 %
    /// jitter so that several bots do not retry in step. Default 2 s.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "00:10:00")]
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Longest wait between retries. Default 60 s.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "01:00:00")]
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Attempts of one send when iLink answers <c>ret=-2</c> (rate limited) before the outbox's own
    /// retry takes over. Default 3.</summary>
    [Range(1, 10)]
    public int SendAttempts { get; set; } = 3;

    /// <summary>Wait between two polls of the QR-code status when the server answers at once. Default 1 s.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:00:30")]
    public TimeSpan QrPollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>New QR codes fetched when one expires before it is scanned. Default 3, as Tencent's own client.</summary>
    [Range(0, 10)]
    public int QrRefreshes { get; set; } = 3;

    /// <summary>The channel version sent in <c>base_info</c> and, encoded, in <c>iLink-App-ClientVersion</c>.
    /// Default 2.4.8, the version of the published protocol document.</summary>
    [Required]
    [RegularExpression(@"^\d{1,3}\.\d{1,3}\.\d{1,3}$")]
    public string ChannelVersion { get; set; } = "2.4.8";

    /// <summary>The channel id of this account.</summary>
    internal string ChannelName => "ilink:" + Account;
}
