namespace WeSeek.Messaging;

/// <summary>
/// Where channels hand inbound messages. Thread-safe. When <see cref="AcceptAsync"/> returns an accepted
/// result the message is durable (committed to storage), so the channel may acknowledge it to the platform.
/// </summary>
public interface IInboundSink
{
    /// <summary>Stores <paramref name="message"/> unless (channel, external id) is already stored.
    /// Concurrent calls with the same key store it once.</summary>
    ValueTask<AcceptResult> AcceptAsync(InboundMessage message, CancellationToken cancellationToken);
}
