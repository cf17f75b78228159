namespace WeSeek.Messaging;

/// <summary>
/// Small durable values a channel keeps between runs (a long-poll cursor, a login token, the latest reply
/// token of a chat), by (channel, key). A value is committed when <see cref="SetAsync"/> returns, so a
/// channel that saves its cursor before the next poll neither loses nor repeats messages after a crash.
/// Values may be secrets: implementations keep them out of logs. Thread-safe; implemented by the core on
/// its store (SQLite by default), so every instance that shares the store sees the same values.
/// </summary>
public interface IChannelStateStore
{
    /// <summary>The value of <paramref name="key"/> for <paramref name="channel"/>, or null when none is stored.</summary>
    ValueTask<string?> GetAsync(ChannelId channel, string key, CancellationToken cancellationToken);

    /// <summary>Stores <paramref name="value"/> (replacing any earlier one), or removes the key when it is null.</summary>
    ValueTask SetAsync(ChannelId channel, string key, string? value, CancellationToken cancellationToken);
}
