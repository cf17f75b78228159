using WeSeek.Messaging;

namespace WeSeek.Pipeline;

/// <summary>
/// One inbound message going through the pipeline. Created by the dispatcher for a stored message, used by
/// one pipeline run on one logical thread (not thread-safe), then discarded.
/// </summary>
public sealed class Turn
{
    /// <summary>Creates a turn.</summary>
    public Turn(long inboxId, InboundMessage message, string conversationKey, IServiceProvider services, CancellationToken aborted)
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentException.ThrowIfNullOrEmpty(conversationKey);
        ArgumentNullException.ThrowIfNull(services);
        InboxId = inboxId;
        Message = message;
        ConversationKey = conversationKey;
        Services = services;
        Aborted = aborted;
    }

    /// <summary>The stored inbound row this turn answers.</summary>
    public long InboxId { get; }

    /// <summary>The inbound message.</summary>
    public InboundMessage Message { get; }

    /// <summary>The conversation whose context this turn reads and extends (per user, per group or per member).</summary>
    public string ConversationKey { get; }

    /// <summary>The turn's DI scope; disposed by the dispatcher when the turn ends.</summary>
    public IServiceProvider Services { get; }

    /// <summary>Cancelled when the host shuts down; the turn is then retried after restart.</summary>
    public CancellationToken Aborted { get; }

    /// <summary>Typed per-turn state.</summary>
    public TurnFeatures Features { get; } = new();

    /// <summary>Texts to send back, in order. The composer fills it; the outbox step stores it.</summary>
    public IList<string> Replies { get; } = new List<string>();
}
