namespace WeSeek.Messaging;

/// <summary>Kinds of inbound message. Kinds a pipeline does not handle are stored and answered politely.</summary>
public enum MessageKind
{
    /// <summary>Plain text.</summary>
    Text,

    /// <summary>An image; <see cref="InboundMessage.Text"/> holds a description or a reference.</summary>
    Image,

    /// <summary>A voice message; <see cref="InboundMessage.Text"/> holds the platform's recognition, if any.</summary>
    Voice,

    /// <summary>A platform event (subscribe, menu click) rendered as text.</summary>
    Event,

    /// <summary>Anything else: stored for the record and not answered (an unknown platform message type, an
    /// event that cannot be replied to such as unsubscribe).</summary>
    Other,
}
