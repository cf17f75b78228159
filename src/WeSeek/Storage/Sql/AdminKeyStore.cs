using WeSeek.Security;

namespace WeSeek.Storage.Sql;

/// <summary><see cref="IAdminKeyStore"/> in the table <c>admin_keys</c>. Thread-safe.</summary>
internal sealed class AdminKeyStore(StoreDatabase database) : IAdminKeyStore
{
    public async Task<long> AddAsync(string name, string prefix, string hash, AdminRole role, DateTimeOffset createdAt, CancellationToken cancellationToken)
    {
        await using var writer = await database.OpenWriterAsync(cancellationToken);
        await using var command = writer.Connection.CreateCommand();
        command.CommandText = "INSERT INTO admin_keys (name, prefix, hash, created_at, role) VALUES (@name, @prefix, @hash, @now, @role) RETURNING id;";
        command.AddParameter("@role", role.Name());
        command.AddParameter("@name", name);
        command.AddParameter("@prefix", prefix);
        command.AddParameter("@hash", hash);
        command.AddParameter("@now", createdAt.ToUnixTimeMilliseconds());
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    public async Task<IReadOnlyList<AdminKeyInfo>> ListAsync(CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT id, name, prefix, created_at, last_used_at, revoked_at, role FROM admin_keys ORDER BY id DESC;";
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var keys = new List<AdminKeyInfo>();
        while (await reader.ReadAsync(cancellationToken))
        {
            keys.Add(new AdminKeyInfo(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), At(reader.GetInt64(3)),
                reader.IsDBNull(4) ? null : At(reader.GetInt64(4)), reader.IsDBNull(5) ? null : At(reader.GetInt64(5)), AdminRoles.Parse(reader.GetString(6))));
        }

        return keys;
    }

    public async Task<bool> AnyActiveAsync(CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT EXISTS (SELECT 1 FROM admin_keys WHERE revoked_at IS NULL);";
        return await command.ScalarInt64Async(cancellationToken) != 0;
    }

    public async Task<bool> RevokeAsync(long id, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await using var writer = await database.OpenWriterAsync(cancellationToken);
        await using var command = writer.Connection.CreateCommand();
        command.CommandText = "UPDATE admin_keys SET revoked_at = @now WHERE id = @id AND revoked_at IS NULL;";
        command.AddParameter("@id", id);
        command.AddParameter("@now", at.ToUnixTimeMilliseconds());
        return await command.ExecuteNonQueryAsync(cancellationToken) > 0;
    }

    public async Task<AdminKeyInfo?> FindActiveAsync(string hash, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT id, name, prefix, created_at, last_used_at, role FROM admin_keys WHERE hash = @hash AND revoked_at IS NULL;";
        command.AddParameter("@hash", hash);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? new AdminKeyInfo(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), At(reader.GetInt64(3)), reader.IsDBNull(4) ? null : At(reader.GetInt64(4)), null, AdminRoles.Parse(reader.GetString(5)))
            : null;
    }

    public async Task TouchAsync(long id, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await using var writer = await database.OpenWriterAsync(cancellationToken);
        await using var touch = writer.Connection.CreateCommand();
        touch.CommandText = "UPDATE admin_keys SET last_used_at = @now WHERE id = @id;";
        touch.AddParameter("@id", id);
        touch.AddParameter("@now", at.ToUnixTimeMilliseconds());
        await touch.ExecuteNonQueryAsync(cancellationToken);
    }

    private static DateTimeOffset At(long milliseconds) => DateTimeOffset.FromUnixTimeMilliseconds(milliseconds);
}
