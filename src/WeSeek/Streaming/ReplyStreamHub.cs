using System.Threading.Channels;
using WeSeek.Messaging;

namespace WeSeek.Streaming;

/// <summary>
/// In-process <see cref="IReplyStreamHub"/>. Each subscriber gets a buffer of 1,024 events (a few seconds of
/// tokens at any realistic speed) that drops its oldest events when full, so a stalled browser never slows
/// generation or grows memory.
/// </summary>
internal sealed class ReplyStreamHub : IReplyStreamHub
{
    private readonly Broadcaster<(ChannelId, string), ReplyStreamEvent> _broadcaster = new(capacity: 1024);

    public void Publish(ReplyStreamEvent streamEvent)
    {
        ArgumentNullException.ThrowIfNull(streamEvent);
        _broadcaster.Publish((streamEvent.Channel, streamEvent.ChatId), streamEvent);
    }

    public ChannelReader<ReplyStreamEvent> Subscribe(ChannelId channel, string chatId, CancellationToken cancellationToken) =>
        _broadcaster.Subscribe((channel, chatId), cancellationToken);
}
