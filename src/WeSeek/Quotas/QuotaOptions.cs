using System.ComponentModel.DataAnnotations;

namespace WeSeek.Quotas;

/// <summary>Daily message quotas per user and per group (days in <c>Outbox:DailyCapTimeZone</c>). Section
/// <c>Quota</c>. Both off by default; the account-wide daily cap (<c>Outbox:DailyCap</c>) always applies.</summary>
public sealed class QuotaOptions
{
    /// <summary>Messages one user may ask per day, counted across every chat of the channel (private and all
    /// groups); 0 for no limit.</summary>
    [Range(0, 1_000_000)]
    public int PerUserDaily { get; set; }

    /// <summary>Messages one group may ask per day (triggered or not); 0 for no limit.</summary>
    [Range(0, 1_000_000)]
    public int PerGroupDaily { get; set; }

    /// <summary>Messages one member may ask per day inside one group, so that one member cannot spend the
    /// group's quota alone; asking in another group or in private is counted apart (<see cref="PerUserDaily"/>
    /// limits the sum). 0 for no limit.</summary>
    [Range(0, 1_000_000)]
    public int PerMemberDaily { get; set; }

    /// <summary>Sent once, to the first message over a quota.</summary>
    [Required]
    public string Notice { get; set; } = "今天的提问次数已经用完了，明天再来吧。";
}
