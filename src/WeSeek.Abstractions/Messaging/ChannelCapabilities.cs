namespace WeSeek.Messaging;

/// <summary>What a channel can do. Capabilities replace overloads that would throw.</summary>
public sealed record ChannelCapabilities
{
    /// <summary>Longest text one message may carry, in UTF-16 characters. Default 600: about 1,800 UTF-8
    /// bytes of Chinese, under the 2,048-byte limit of passive, customer-service and WeCom text messages.</summary>
    public int MaxTextLength { get; init; } = 600;

    /// <summary>Longest text one message may carry in UTF-8 bytes; 0 for no byte limit. Default 2,048 (WeChat).</summary>
    public int MaxTextBytes { get; init; } = 2048;

    /// <summary>True when the peer is WeChat: the outbox paces sends per chat and applies the account's
    /// daily cap. Local channels (web chat, terminal) set it false.</summary>
    public bool RateLimited { get; init; } = true;

    /// <summary>Most messages one inbound message may be answered with; 0 for no limit of the channel's own.
    /// Default 0. WeChat sets it per surface: 5 for the 公众号 customer-service API (45047 after that), 1 for a
    /// subscription account that can only answer passively.</summary>
    public int MaxMessagesPerTrigger { get; init; }

    /// <summary>True when the channel shows Markdown (or raw text is fine there); false for WeChat, where the
    /// composer flattens Markdown into plain text. Default false.</summary>
    public bool Markdown { get; init; }

    /// <summary>False when the channel cannot send on its own: replies wait in the outbox, untouched by the
    /// sender, until the channel claims them in answer to the user's next message (<see cref="IReplyClaims"/>;
    /// a subscription 公众号 that can only answer passively). Default true.</summary>
    public bool Push { get; init; } = true;

    /// <summary>True when the channel shows tokens as they are generated (through the reply stream).</summary>
    public bool Streaming { get; init; }
}
