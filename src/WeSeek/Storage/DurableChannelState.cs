using WeSeek.Messaging;
using WeSeek.Security;

namespace WeSeek.Storage;

/// <summary>
/// <see cref="IChannelStateStore"/> and <see cref="IChannelLease"/> on the embedded database (tables
/// <c>channel_state</c> and <c>leases</c>). Each call is one statement, so it is atomic against every process
/// that opens the same file. Values are encrypted like message bodies (AES-256-GCM, bound to their channel and
/// key): they hold login tokens. Thread-safe.
/// </summary>
internal sealed class DurableChannelState : IChannelStateStore, IChannelLease
{
    private readonly StoreDatabase _database;
    private readonly RecordCipher _cipher;
    private readonly TimeProvider _time;

    public DurableChannelState(StoreDatabase database, RecordCipher cipher, TimeProvider time)
    {
        _database = database;
        _cipher = cipher;
        _time = time;
    }

    private static string Purpose(ChannelId channel, string key) => $"channel_state.value\n{channel.Value}\n{key}";

    public async ValueTask<string?> GetAsync(ChannelId channel, string key, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        await using var connection = await _database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT value, key_id FROM channel_state WHERE channel = @channel AND key = @key;";
        command.AddParameter("@channel", channel.Value);
        command.AddParameter("@key", key);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? _cipher.Read(reader, 0, 1, Purpose(channel, key)) : null;
    }

    public async ValueTask SetAsync(ChannelId channel, string key, string? value, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        await using var writer = await _database.OpenWriterAsync(cancellationToken);
        var connection = writer.Connection;
        await using var command = connection.CreateCommand();
        command.CommandText = value is null
            ? "DELETE FROM channel_state WHERE channel = @channel AND key = @key;"
            : """
              INSERT INTO channel_state (channel, key, value, key_id, updated_at) VALUES (@channel, @key, @value, @value_key, @now)
              ON CONFLICT (channel, key) DO UPDATE SET value = excluded.value, key_id = excluded.key_id, updated_at = excluded.updated_at;
              """;
        command.AddParameter("@channel", channel.Value);
        command.AddParameter("@key", key);
        if (value is not null)
        {
            _cipher.Bind(command, "@value", value, Purpose(channel, key));
        }

        command.AddParameter("@now", _time.GetUtcNow().ToUnixTimeMilliseconds());
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async ValueTask<bool> TryAcquireAsync(string name, string owner, TimeSpan ttl, CancellationToken cancellationToken)
    {
        // One upsert decides the race: the row is written only when it is new, expired, or already ours.
        var now = _time.GetUtcNow();
        if (await LeaseAsync("""
            INSERT INTO leases (name, owner, expires_at) VALUES (@name, @owner, @expires)
            ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
            WHERE leases.expires_at <= @now OR leases.owner = excluded.owner;
            """, name, owner, now, now + ttl, cancellationToken) > 0)
        {
            return true;
        }

        // Every process sharing a SQLite file runs on this machine: a holder whose process is gone (killed, crashed)
        // will never renew, so its lease is taken now rather than after its TTL (a OneBot implementation does not
        // keep the events it sends while no one is connected). The update names the dead holder: a race for it is
        // won once. Not on a shared database, whose holders may run on other machines.
        if (_database.Shared || await HolderAsync(name, cancellationToken) is not { } holder || !LeaseOwners.IsGoneFromThisMachine(holder))
        {
            return false;
        }

        await using var writer = await _database.OpenWriterAsync(cancellationToken);
        await using var command = writer.Connection.CreateCommand();
        command.CommandText = "UPDATE leases SET owner = @owner, expires_at = @expires WHERE name = @name AND owner = @holder;";
        command.AddParameter("@name", name);
        command.AddParameter("@owner", owner);
        command.AddParameter("@holder", holder);
        command.AddParameter("@expires", (now + ttl).ToUnixTimeMilliseconds());
        return await command.ExecuteNonQueryAsync(cancellationToken) > 0;
    }

    private async Task<string?> HolderAsync(string name, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT owner FROM leases WHERE name = @name;";
        command.AddParameter("@name", name);
        return await command.ExecuteScalarAsync(cancellationToken) as string;
    }

    public async ValueTask<bool> RenewAsync(string name, string owner, TimeSpan ttl, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        return await LeaseAsync("UPDATE leases SET expires_at = @expires WHERE name = @name AND owner = @owner;", name, owner, now, now + ttl, cancellationToken) > 0;
    }

    public async ValueTask ReleaseAsync(string name, string owner, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        await LeaseAsync("DELETE FROM leases WHERE name = @name AND owner = @owner;", name, owner, now, now, cancellationToken);
    }

    private async Task<int> LeaseAsync(string sql, string name, string owner, DateTimeOffset now, DateTimeOffset expires, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentException.ThrowIfNullOrEmpty(owner);
        await using var writer = await _database.OpenWriterAsync(cancellationToken);
        var connection = writer.Connection;
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.AddParameter("@name", name);
        command.AddParameter("@owner", owner);
        command.AddParameter("@now", now.ToUnixTimeMilliseconds());
        command.AddParameter("@expires", expires.ToUnixTimeMilliseconds());
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
