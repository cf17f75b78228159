using System.ComponentModel.DataAnnotations;

namespace WeSeek.Outbox;

/// <summary>How stored replies are sent. Section <c>Outbox</c>. Pacing and the daily cap apply to channels
/// whose peer is WeChat (<c>ChannelCapabilities.RateLimited</c>).</summary>
public sealed class OutboxOptions
{
    /// <summary>Least time between two messages to the same chat. Default 1.5 s: the product rule in
    /// DESIGN.md ("Rules the product keeps"); bursts faster than a person types are what gets accounts limited.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan PacingInterval { get; set; } = TimeSpan.FromSeconds(1.5);

    /// <summary>Most messages one account sends in a day. Default 5,000: the product rule in DESIGN.md, under
    /// the volumes at which WeChat starts restricting accounts.</summary>
    [Range(1, 10_000_000)]
    public int DailyCap { get; set; } = 5000;

    /// <summary>Where the day of <see cref="DailyCap"/> starts and ends. Default <c>Asia/Shanghai</c>: WeChat's
    /// quotas reset at midnight Beijing time.</summary>
    [Required]
    public string DailyCapTimeZone { get; set; } = "Asia/Shanghai";

    /// <summary>Attempts of one send before it is given up (and logged as failed). Default 10, which with
    /// the backoff below spans about 20 minutes of outage.</summary>
    [Range(1, 1000)]
    public int MaxAttempts { get; set; } = 10;

    /// <summary>Wait before the first retry of a failed send; doubles per attempt. Default 2 s.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Longest wait between retries. Default 5 min.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "1.00:00:00")]
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Sends in flight at once, across chats (one chat sends one at a time). Default 8.</summary>
    [Range(1, 256)]
    public int MaxParallelSends { get; set; } = 8;

    /// <summary>How long a row claimed for sending is the claiming instance's (instances sharing a database).
    /// Default 2 min: far above a channel's send timeout, so only a dead instance's claims run out; its rows are
    /// then sent by another instance (a send that reached WeChat just before the crash may go twice).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan ClaimTime { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>How often the sender looks for work without being woken. Default 1 s.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:10:00")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);
}
