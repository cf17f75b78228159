using Microsoft.Data.Sqlite;
using Npgsql;
using NpgsqlTypes;
using WeSeek.Storage.Sqlite;

namespace WeSeek.Storage.Postgres;

/// <summary>
/// Moves an embedded install to PostgreSQL (<c>weseek db migrate --to postgres</c>): every row of every table,
/// verbatim, by binary COPY in one transaction. Encrypted bodies are copied as the same AES-GCM records (their
/// associated data names ids and channels, which are copied too), so the same key file reads them; audit records
/// keep their ids and hashes, so the chain verifies on the new database. Leases are not copied (they belong to
/// running processes). The target must be empty: an install is moved once, not merged.
/// </summary>
internal static class SqliteToPostgres
{
    /// <summary>Tables in an order that satisfies the foreign keys (outbox after inbox).</summary>
    private static readonly string[] Tables =
    [
        "inbox", "outbox", "send_counts", "conversations", "history", "continuations", "channel_state",
        "audit", "plugin_settings", "admin_keys", "image_descriptions", "feedback_answers", "feedback",
    ];

    private static readonly string[] IdentityTables = ["inbox", "outbox", "history", "admin_keys"];

    /// <summary>Copies; returns the rows copied per table.</summary>
    public static async Task<IReadOnlyList<(string Table, long Rows)>> CopyAsync(SqliteDatabase source, PostgresDatabase target, CancellationToken cancellationToken)
    {
        await source.EnsureReadyAsync(cancellationToken);
        await target.EnsureReadyAsync(cancellationToken);
        await using var from = (SqliteConnection)await source.OpenAsync(cancellationToken);
        await using var to = (NpgsqlConnection)await target.OpenAsync(cancellationToken);
        await using var transaction = await to.BeginTransactionAsync(cancellationToken);
        foreach (var table in Tables)
        {
            await using var any = new NpgsqlCommand($"SELECT EXISTS (SELECT 1 FROM {table});", to, transaction);
            if (await any.ExecuteScalarAsync(cancellationToken) is true)
            {
                throw new StorageStartupException($"the PostgreSQL database at {target.Location} already holds data (table {table}): move an install into an empty database, or point Storage:ConnectionString at another.");
            }
        }

        var copied = new List<(string, long)>();
        foreach (var table in Tables)
        {
            var columns = await ColumnsAsync(to, transaction, table, cancellationToken);
            await using var read = from.CreateCommand();
            read.CommandText = $"SELECT {string.Join(", ", columns.Select(c => c.Name))} FROM {table};";
            await using var reader = await read.ExecuteReaderAsync(cancellationToken);
            long rows = 0;
            await using (var importer = await to.BeginBinaryImportAsync($"COPY {table} ({string.Join(", ", columns.Select(c => c.Name))}) FROM STDIN (FORMAT BINARY)", cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken))
                {
                    await importer.StartRowAsync(cancellationToken);
                    for (var i = 0; i < columns.Count; i++)
                    {
                        if (reader.IsDBNull(i))
                        {
                            await importer.WriteNullAsync(cancellationToken);
                            continue;
                        }

                        switch (columns[i].Type)
                        {
                            case NpgsqlDbType.Bigint:
                                await importer.WriteAsync(reader.GetInt64(i), NpgsqlDbType.Bigint, cancellationToken);
                                break;
                            case NpgsqlDbType.Bytea:
                                // Rows written before encryption hold plaintext (key_id NULL): kept as its UTF-8 bytes.
                                var value = reader.GetValue(i);
                                await importer.WriteAsync(value as byte[] ?? System.Text.Encoding.UTF8.GetBytes(Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture)!), NpgsqlDbType.Bytea, cancellationToken);
                                break;
                            default:
                                await importer.WriteAsync(Convert.ToString(reader.GetValue(i), System.Globalization.CultureInfo.InvariantCulture)!, NpgsqlDbType.Text, cancellationToken);
                                break;
                        }
                    }

                    rows++;
                }

                await importer.CompleteAsync(cancellationToken);
            }

            copied.Add((table, rows));
        }

        foreach (var table in IdentityTables)
        {
            // The next id after the copied ones.
            await using var sequence = new NpgsqlCommand($"SELECT setval(pg_get_serial_sequence('{table}', 'id'), GREATEST(COALESCE(MAX(id), 0), 1), MAX(id) IS NOT NULL) FROM {table};", to, transaction);
            await sequence.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return copied;
    }

    private static async Task<List<(string Name, NpgsqlDbType Type)>> ColumnsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string table, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = @table ORDER BY ordinal_position;", connection, transaction);
        command.Parameters.AddWithValue("table", table);
        var columns = new List<(string, NpgsqlDbType)>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            columns.Add((reader.GetString(0), reader.GetString(1) switch
            {
                "bigint" => NpgsqlDbType.Bigint,
                "bytea" => NpgsqlDbType.Bytea,
                _ => NpgsqlDbType.Text,
            }));
        }

        return columns;
    }
}
