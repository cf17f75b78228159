namespace WeSeek.Messaging;

/// <summary>
/// A messaging surface: it receives messages into an <see cref="IInboundSink"/> and sends what the outbox
/// gives it. A channel knows its protocol and nothing about models.
/// </summary>
public interface IChannel
{
    /// <summary>The channel's id, unique in the host.</summary>
    ChannelId Id { get; }

    /// <summary>What the channel can do; the composer and the outbox read it instead of trying and failing.</summary>
    ChannelCapabilities Capabilities { get; }

    /// <summary>Starts receiving. Called once by the host.</summary>
    Task StartAsync(IInboundSink sink, CancellationToken cancellationToken);

    /// <summary>Stops receiving; messages not yet accepted are not acknowledged.</summary>
    Task StopAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Sends one message. Called by the outbox sender only, one at a time per chat. Throws
    /// <see cref="ChannelSendException"/> on failure; any other exception is treated as transient.
    /// </summary>
    Task<SendReceipt> SendAsync(OutboundMessage message, CancellationToken cancellationToken);
}

/// <summary>The platform's acknowledgement of a send.</summary>
/// <param name="PlatformMessageId">The platform's id for the sent message, when it gives one.</param>
public sealed record SendReceipt(string? PlatformMessageId);
