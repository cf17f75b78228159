using WeSeek.Messaging;

namespace WeSeek.Hosting;

/// <summary>The channels registered in the host, by id. Immutable after start-up; thread-safe.</summary>
public sealed class ChannelRegistry
{
    private readonly Dictionary<ChannelId, IChannel> _channels;

    /// <summary>Indexes the registered channels.</summary>
    /// <exception cref="InvalidOperationException">Two channels share an id.</exception>
    public ChannelRegistry(IEnumerable<IChannel> channels)
    {
        ArgumentNullException.ThrowIfNull(channels);
        _channels = [];
        foreach (var channel in channels)
        {
            if (!_channels.TryAdd(channel.Id, channel))
            {
                throw new InvalidOperationException($"Two channels are registered with the id '{channel.Id}'.");
            }
        }
    }

    /// <summary>All channels.</summary>
    public IEnumerable<IChannel> All => _channels.Values;

    /// <summary>The channel with <paramref name="id"/>, or null.</summary>
    public IChannel? Find(ChannelId id) => _channels.GetValueOrDefault(id);
}
