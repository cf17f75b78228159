using WeSeek.Messaging;

namespace WeSeek.Streaming;

/// <summary>
/// A piece of an answer while it is being generated, for channels that show tokens live. Ephemeral: the
/// durable answer still goes through the outbox, so a lost stream event loses nothing.
/// </summary>
/// <param name="Channel">The channel of the chat.</param>
/// <param name="ChatId">The chat.</param>
/// <param name="InboxId">The inbound message being answered.</param>
/// <param name="Kind">Reasoning delta, answer delta, or the end of generation.</param>
/// <param name="Text">The delta text; empty for <see cref="ReplyStreamEventKind.Completed"/>.</param>
public sealed record ReplyStreamEvent(ChannelId Channel, string ChatId, long InboxId, ReplyStreamEventKind Kind, string Text);

/// <summary>The kinds of <see cref="ReplyStreamEvent"/>.</summary>
public enum ReplyStreamEventKind
{
    /// <summary>Text inside <c>&lt;think&gt;</c>.</summary>
    Reasoning,

    /// <summary>Text of the answer.</summary>
    Answer,

    /// <summary>Generation ended (the final replies follow through the outbox).</summary>
    Completed,
}
