using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;
using WeSeek.Messaging;
using WeSeek.Storage;

namespace WeSeek.Security;

/// <summary>The outcome of <see cref="AuditLog.VerifyAsync"/>: how many records were checked and, when the
/// chain is broken, the first record that does not fit and why.</summary>
public sealed record AuditVerification(long Records, long? BrokenId, string? Problem)
{
    /// <summary>True when every record links to the one before it and matches its hash.</summary>
    public bool IsIntact => BrokenId is null;
}

/// <summary>
/// The append-only, hash-chained audit log in the <c>audit</c> table. Each record stores the hash of the one
/// before it, and its own hash covers that link, its id, time, kind and data, so editing, deleting or
/// reordering any record breaks the chain at that record. Records hold facts, never content: hashes of answers
/// and sent texts, token counts, the redacted configuration. Appends are serialized (in process by a lock, across
/// processes by SQLite's write lock, taken at BEGIN IMMEDIATE) so concurrent writers never fork the chain.
/// Thread-safe.
/// </summary>
internal sealed class AuditLog : IDisposable
{
    /// <summary>The previous hash of the first record.</summary>
    public static readonly string Genesis = new('0', 64);

    private readonly SqliteDatabase _database;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _append = new(1, 1);

    public AuditLog(SqliteDatabase database, TimeProvider time)
    {
        _database = database;
        _time = time;
    }

    /// <summary>Appends a record; returns its id.</summary>
    public async Task<long> AppendAsync(string kind, JsonObject data, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(data);
        var json = data.ToJsonString();
        var at = _time.GetUtcNow().ToUnixTimeMilliseconds();
        await _append.WaitAsync(cancellationToken);
        try
        {
            await using var connection = await _database.OpenAsync(cancellationToken);
            // Not deferred: BEGIN IMMEDIATE takes the write lock before reading the last hash, so another
            // process cannot append between the read and the insert.
            await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(System.Data.IsolationLevel.Serializable, cancellationToken);
            long lastId = 0;
            var previous = Genesis;
            await using (var last = connection.CreateCommand())
            {
                last.Transaction = transaction;
                last.CommandText = "SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1;";
                await using var reader = await last.ExecuteReaderAsync(cancellationToken);
                if (await reader.ReadAsync(cancellationToken))
                {
                    lastId = reader.GetInt64(0);
                    previous = reader.GetString(1);
                }
            }

            var id = lastId + 1;
            await using (var insert = connection.CreateCommand())
            {
                insert.Transaction = transaction;
                insert.CommandText = "INSERT INTO audit (id, at, kind, data, prev_hash, hash) VALUES ($id, $at, $kind, $data, $prev, $hash);";
                insert.Parameters.AddWithValue("$id", id);
                insert.Parameters.AddWithValue("$at", at);
                insert.Parameters.AddWithValue("$kind", kind);
                insert.Parameters.AddWithValue("$data", json);
                insert.Parameters.AddWithValue("$prev", previous);
                insert.Parameters.AddWithValue("$hash", HashOf(previous, id, at, kind, json));
                await insert.ExecuteNonQueryAsync(cancellationToken);
            }

            await transaction.CommitAsync(cancellationToken);
            return id;
        }
        finally
        {
            _append.Release();
        }
    }

    /// <summary>Records a message handed to its channel: where it went and the hash of its text.</summary>
    public Task<long> MessageSentAsync(OutboundMessage message, string? platformId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        return AppendAsync("message.sent", new JsonObject
        {
            ["channel"] = message.Channel.Value,
            ["account"] = message.AccountId,
            ["chat"] = message.ChatId,
            ["outboxId"] = message.OutboxId,
            ["inboxId"] = message.InboxId,
            ["seq"] = message.Sequence,
            ["platformId"] = platformId,
            ["textSha256"] = Sha256(message.Text),
        }, cancellationToken);
    }

    /// <summary>The data of the newest record of <paramref name="kind"/>, if any.</summary>
    public async Task<JsonObject?> LastDataAsync(string kind, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT data FROM audit WHERE kind = $kind ORDER BY id DESC LIMIT 1;";
        command.Parameters.AddWithValue("$kind", kind);
        return await command.ExecuteScalarAsync(cancellationToken) is string data ? JsonNode.Parse(data) as JsonObject : null;
    }

    /// <summary>Walks the chain from the first record and names the first one that does not fit.</summary>
    public async Task<AuditVerification> VerifyAsync(CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT id, at, kind, data, prev_hash, hash FROM audit ORDER BY id;";
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        long count = 0;
        long expectedId = 1;
        var previous = Genesis;
        while (await reader.ReadAsync(cancellationToken))
        {
            var id = reader.GetInt64(0);
            var hash = reader.GetString(5);
            if (HashOf(reader.GetString(4), id, reader.GetInt64(1), reader.GetString(2), reader.GetString(3)) != hash)
            {
                return new AuditVerification(count, id, $"record {id} does not match its hash: it was edited");
            }

            if (id != expectedId)
            {
                return new AuditVerification(count, id, $"record {id} follows record {expectedId - 1}: records were deleted or renumbered");
            }

            if (reader.GetString(4) != previous)
            {
                return new AuditVerification(count, id, $"record {id} does not link to record {id - 1}: a record before it was replaced or reordered");
            }

            previous = hash;
            expectedId = id + 1;
            count++;
        }

        return new AuditVerification(count, null, null);
    }

    public void Dispose() => _append.Dispose();

    public static string HashOf(string previous, long id, long at, string kind, string data) =>
        Sha256($"{previous}\n{id}\n{at}\n{kind}\n{data}");

    public static string Sha256(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
}
