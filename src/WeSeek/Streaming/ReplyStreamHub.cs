using System.Collections.Concurrent;
using System.Threading.Channels;
using WeSeek.Messaging;

namespace WeSeek.Streaming;

/// <summary>
/// In-process <see cref="IReplyStreamHub"/>. Each subscriber gets a channel of 1,024 events (a few
/// seconds of tokens at any realistic speed) that drops its oldest events when full, so a stalled browser
/// never slows generation or grows memory.
/// </summary>
internal sealed class ReplyStreamHub : IReplyStreamHub
{
    private const int SubscriberCapacity = 1024;
    private readonly ConcurrentDictionary<(ChannelId, string), ImmutableSubscribers> _subscribers = new();

    public void Publish(ReplyStreamEvent streamEvent)
    {
        ArgumentNullException.ThrowIfNull(streamEvent);
        if (_subscribers.TryGetValue((streamEvent.Channel, streamEvent.ChatId), out var subscribers))
        {
            foreach (var writer in subscribers.Writers)
            {
                writer.TryWrite(streamEvent);
            }
        }
    }

    public ChannelReader<ReplyStreamEvent> Subscribe(ChannelId channel, string chatId, CancellationToken cancellationToken)
    {
        var queue = Channel.CreateBounded<ReplyStreamEvent>(new BoundedChannelOptions(SubscriberCapacity)
        {
            FullMode = BoundedChannelFullMode.DropOldest,
            SingleReader = true,
        });
        var key = (channel, chatId);
        _subscribers.AddOrUpdate(key, _ => new([queue.Writer]), (_, s) => new([.. s.Writers, queue.Writer]));
        cancellationToken.Register(() =>
        {
            queue.Writer.TryComplete();
            while (_subscribers.TryGetValue(key, out var current))
            {
                var remaining = current.Writers.Where(w => w != queue.Writer).ToArray();
                var done = remaining.Length == 0
                    ? _subscribers.TryRemove(new KeyValuePair<(ChannelId, string), ImmutableSubscribers>(key, current))
                    : _subscribers.TryUpdate(key, new(remaining), current);
                if (done)
                {
                    break;
                }
            }
        });
        return queue.Reader;
    }

    /// <summary>Copy-on-write list, so publishing never takes a lock.</summary>
    private sealed record ImmutableSubscribers(ChannelWriter<ReplyStreamEvent>[] Writers);
}
