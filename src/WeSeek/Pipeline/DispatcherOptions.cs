using System.ComponentModel.DataAnnotations;

namespace WeSeek.Pipeline;

/// <summary>How stored messages become turns. Section <c>Dispatcher</c>.</summary>
public sealed class DispatcherOptions
{
    /// <summary>Most turns running at once, across conversations (one conversation runs one turn at a
    /// time). Default 8: enough to keep a batching engine busy, few enough for a 2-core machine.</summary>
    [Range(1, 1024)]
    public int MaxConcurrentTurns { get; set; } = 8;

    /// <summary>How often the dispatcher looks for work without being woken (retries that came due, messages
    /// stored by another process). Default 2 s.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:10:00")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>A question asked in a group waits this long after it arrives, and the asker's further messages
    /// in that group within it join the same turn: members often send "@bot" and the question as separate
    /// messages, or a question in pieces. Default 1.5 s: the pacing WeChat expects between sends anyway, and
    /// longer than the gap between messages typed in one go. Zero turns merging off. Private chats are never
    /// held back.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:00:30")]
    public TimeSpan GroupBurstWindow { get; set; } = TimeSpan.FromSeconds(1.5);

    /// <summary>How long a turn's lease on its message lasts without renewal. The dispatcher renews the leases of
    /// its running turns every third of it; an instance that dies stops renewing, and another instance sharing
    /// the database takes the message over when the lease runs out. Default 30 s: a dead instance's messages
    /// are answered within about half a minute, and renewals cost one UPDATE per instance every 10 s.</summary>
    [Range(typeof(TimeSpan), "00:00:03", "01:00:00")]
    public TimeSpan LeaseTime { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>With several instances on one database: how long a conversation's next message waits for the
    /// instance that ran its last turn, while that instance is alive (its heartbeat is younger than
    /// <see cref="LeaseTime"/>), before any instance may take it. That instance's embedded engine holds the
    /// conversation's KV cache, so the turn prefills only the new message. Default 5 s: the holder hears of the
    /// message at once (NOTIFY) and takes it within milliseconds unless it is busy; a busy or dying holder costs a
    /// message at most this much. Zero turns the preference off (remote replicas route by conversation anyway).</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:01:00")]
    public TimeSpan CacheAffinityWait { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>On shutdown, how long running turns may finish before they are cancelled (and run again
    /// after restart). Default 10 s: inside Kubernetes' default 30 s grace period with room for the outbox.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00")]
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Attempts of one turn before the user gets an apology instead. Default 4: with the delay
    /// below, a model server may be away for about half a minute (a restart) without anyone noticing.</summary>
    [Range(1, 100)]
    public int MaxAttempts { get; set; } = 4;

    /// <summary>Wait before the first retry; doubles with each attempt (5, 10, 20 s). Default 5 s.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>What the user gets when a turn failed <see cref="MaxAttempts"/> times.</summary>
    [Required]
    public string FailureReply { get; set; } = "抱歉，我这边出了点问题，暂时无法回答。请稍后再试。";
}
