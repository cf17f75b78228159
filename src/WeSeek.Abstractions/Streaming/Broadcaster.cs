using System.Collections.Concurrent;
using System.Threading.Channels;

namespace WeSeek.Streaming;

/// <summary>
/// Fan-out by key to any number of subscribers, each with its own bounded buffer that drops its oldest
/// items when full: a stalled subscriber never blocks the publisher or grows memory. Publishing takes no
/// lock (copy-on-write subscriber lists). Thread-safe.
/// </summary>
/// <typeparam name="TKey">What subscribers subscribe to (a chat).</typeparam>
/// <typeparam name="T">The items published.</typeparam>
public sealed class Broadcaster<TKey, T>(int capacity) where TKey : notnull
{
    private readonly ConcurrentDictionary<TKey, ChannelWriter<T>[]> _subscribers = new();

    /// <summary>Offers <paramref name="item"/> to every subscriber of <paramref name="key"/>. Never blocks.</summary>
    public void Publish(TKey key, T item)
    {
        if (_subscribers.TryGetValue(key, out var writers))
        {
            foreach (var writer in writers)
            {
                writer.TryWrite(item);
            }
        }
    }

    /// <summary>Items published to <paramref name="key"/> from now until <paramref name="cancellationToken"/>.</summary>
    public ChannelReader<T> Subscribe(TKey key, CancellationToken cancellationToken)
    {
        var queue = Channel.CreateBounded<T>(new BoundedChannelOptions(capacity) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });
        _subscribers.AddOrUpdate(key, _ => [queue.Writer], (_, writers) => [.. writers, queue.Writer]);
        cancellationToken.Register(() =>
        {
            queue.Writer.TryComplete();
            while (_subscribers.TryGetValue(key, out var current))
            {
                var remaining = current.Where(w => w != queue.Writer).ToArray();
                if (remaining.Length == 0
                    ? _subscribers.TryRemove(new KeyValuePair<TKey, ChannelWriter<T>[]>(key, current))
                    : _subscribers.TryUpdate(key, remaining, current))
                {
                    break;
                }
            }
        });
        return queue.Reader;
    }
}
