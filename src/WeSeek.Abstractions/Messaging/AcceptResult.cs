namespace WeSeek.Messaging;

/// <summary>What the inbox did with an inbound message. A channel acknowledges the platform only on
/// <see cref="AcceptOutcome.Stored"/> or <see cref="AcceptOutcome.Duplicate"/>.</summary>
/// <param name="Outcome">Stored, duplicate or rejected.</param>
/// <param name="InboxId">The stored row (the earlier one for a duplicate); 0 when rejected.</param>
/// <param name="Reason">Why it was rejected; null otherwise.</param>
public readonly record struct AcceptResult(AcceptOutcome Outcome, long InboxId, string? Reason = null)
{
    /// <summary>True when the message is durably stored, now or earlier.</summary>
    public bool IsAccepted => Outcome is AcceptOutcome.Stored or AcceptOutcome.Duplicate;
}

/// <summary>The three outcomes of <see cref="IInboundSink.AcceptAsync"/>.</summary>
public enum AcceptOutcome
{
    /// <summary>Stored now; it will be answered once.</summary>
    Stored,

    /// <summary>Already stored (same channel and external id); it will not be processed again.</summary>
    Duplicate,

    /// <summary>Not stored, for the reason given.</summary>
    Rejected,
}
