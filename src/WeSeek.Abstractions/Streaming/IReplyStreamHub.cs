using System.Threading.Channels;
using WeSeek.Messaging;

namespace WeSeek.Streaming;

/// <summary>
/// Fan-out of <see cref="ReplyStreamEvent"/>s from the model step to the channels that show them. Thread-safe.
/// Each subscriber has a bounded buffer; a slow subscriber loses its oldest events, never blocks generation.
/// </summary>
public interface IReplyStreamHub
{
    /// <summary>Publishes an event to the subscribers of its chat. Never blocks.</summary>
    void Publish(ReplyStreamEvent streamEvent);

    /// <summary>Subscribes to one chat of one channel until <paramref name="cancellationToken"/> is cancelled.</summary>
    ChannelReader<ReplyStreamEvent> Subscribe(ChannelId channel, string chatId, CancellationToken cancellationToken);
}
