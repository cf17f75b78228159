using System.Runtime.CompilerServices;
using WeSeek.Security;

namespace WeSeek.Storage.Sql;

/// <summary><see cref="IAuditStore"/> in the table <c>audit</c>. An append reads the last record and inserts the
/// next inside <see cref="StoreDatabase.BeginSerializedAsync"/> (SQLite's write lock taken at BEGIN; a transaction
/// advisory lock on PostgreSQL), so another process cannot append between the read and the insert. Thread-safe.</summary>
internal sealed class AuditStore(StoreDatabase database) : IAuditStore
{
    public async Task<AuditRecord> AppendAsync(Func<AuditLink?, AuditRecord> next, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(next);
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var transaction = await database.BeginSerializedAsync(connection, "audit", cancellationToken);
        AuditLink? last = null;
        await using (var command = connection.CreateCommand())
        {
            command.Transaction = transaction;
            command.CommandText = "SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1;";
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            if (await reader.ReadAsync(cancellationToken))
            {
                last = new AuditLink(reader.GetInt64(0), reader.GetString(1));
            }
        }

        var record = next(last);
        await using (var insert = connection.CreateCommand())
        {
            insert.Transaction = transaction;
            insert.CommandText = "INSERT INTO audit (id, at, kind, data, prev_hash, hash) VALUES (@id, @at, @kind, @data, @prev, @hash);";
            insert.AddParameter("@id", record.Id);
            insert.AddParameter("@at", record.At);
            insert.AddParameter("@kind", record.Kind);
            insert.AddParameter("@data", record.Data);
            insert.AddParameter("@prev", record.PreviousHash);
            insert.AddParameter("@hash", record.Hash);
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return record;
    }

    public async Task<string?> LastDataAsync(string kind, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT data FROM audit WHERE kind = @kind ORDER BY id DESC LIMIT 1;";
        command.AddParameter("@kind", kind);
        return await command.ExecuteScalarAsync(cancellationToken) as string;
    }

    public async IAsyncEnumerable<AuditRecord> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT id, at, kind, data, prev_hash, hash FROM audit ORDER BY id;";
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            yield return new AuditRecord(reader.GetInt64(0), reader.GetInt64(1), reader.GetString(2), reader.GetString(3), reader.GetString(4), reader.GetString(5));
        }
    }
}
