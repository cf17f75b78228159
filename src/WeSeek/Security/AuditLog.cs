using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using WeSeek.Messaging;

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
/// reordering any record breaks the chain at that record. The hash is an HMAC-SHA256 under a key derived from
/// the key ring (<c>Security:Encryption</c>), which is kept apart from the database: whoever can write the
/// database but not read the key cannot recompute the chain after an edit. The record names the ring key by id
/// (<c>hmac-sha256:{keyId}:{hex}</c>), so rotation keeps old records verifiable while the old key stays listed.
/// Records from before the chain was keyed (plain SHA-256) are accepted only before the first keyed record,
/// whose HMAC covers their hash too. Records hold facts, never content: hashes of answers
/// and sent texts, token counts, the redacted configuration. Appends are serialized (in process by a lock, across
/// processes by <see cref="IAuditStore.AppendAsync"/>) so concurrent writers, in this process or another instance,
/// never fork the chain.
/// Thread-safe.
/// </summary>
internal sealed class AuditLog : IDisposable
{
    /// <summary>The previous hash of the first record.</summary>
    public static readonly string Genesis = new('0', 64);

    private const string KeyedPrefix = "hmac-sha256:";

    private readonly IAuditStore _store;
    private readonly KeyRing _keys;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _append = new(1, 1);

    public AuditLog(IAuditStore store, KeyRing keys, TimeProvider time)
    {
        _store = store;
        _keys = keys;
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
            var record = await _store.AppendAsync(last =>
            {
                var id = (last?.Id ?? 0) + 1;
                var previous = last?.Hash ?? Genesis;
                return new AuditRecord(id, at, kind, json, previous, KeyedHashOf(_keys.Current, _keys.CurrentId, previous, id, at, kind, json));
            }, cancellationToken);
            return record.Id;
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
        return await _store.LastDataAsync(kind, cancellationToken) is { } data ? JsonNode.Parse(data) as JsonObject : null;
    }

    /// <summary>Walks the chain from the first record and names the first one that does not fit.</summary>
    public async Task<AuditVerification> VerifyAsync(CancellationToken cancellationToken)
    {
        long count = 0;
        long expectedId = 1;
        var previous = Genesis;
        var keyedSeen = false;
        (long Id, long Count)? unkeyedRun = null;
        await foreach (var (id, at, kind, data, prev, hash) in _store.ReadAllAsync(cancellationToken))
        {
            if (hash.StartsWith(KeyedPrefix, StringComparison.Ordinal))
            {
                var keyId = hash.Length > KeyedPrefix.Length + 16 ? hash.Substring(KeyedPrefix.Length, 16) : "";
                if (!_keys.TryGet(keyId, out var key))
                {
                    return new AuditVerification(count, id, $"record {id} is keyed with key {keyId}, which is not configured (Security:Encryption): it cannot be checked");
                }

                if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(KeyedHashOf(key, keyId, prev, id, at, kind, data)), Encoding.ASCII.GetBytes(hash)))
                {
                    return new AuditVerification(count, id, $"record {id} does not match its hash: it was edited");
                }

                keyedSeen = true;
                unkeyedRun = null;
            }
            else if (keyedSeen)
            {
                return new AuditVerification(count, id, $"record {id} does not match its hash: it is not keyed but follows keyed records, so it was rewritten without the key");
            }
            else if (HashOf(prev, id, at, kind, data) != hash)
            {
                return new AuditVerification(count, id, $"record {id} does not match its hash: it was edited");
            }
            else
            {
                unkeyedRun ??= (id, count);
            }

            if (id != expectedId)
            {
                return new AuditVerification(count, id, $"record {id} follows record {expectedId - 1}: records were deleted or renumbered");
            }

            if (prev != previous)
            {
                return new AuditVerification(count, id, $"record {id} does not link to record {id - 1}: a record before it was replaced or reordered");
            }

            previous = hash;
            expectedId = id + 1;
            count++;
        }

        // Unkeyed records prove nothing until a keyed record covers them: without one, anyone could have written
        // them (a log rewritten from the start without the key looks exactly like this). Every start of serve
        // appends a keyed record, so an honest log ends with one.
        return unkeyedRun is { } run
            ? new AuditVerification(run.Count, run.Id, $"records {run.Id} to {count} are not keyed and no keyed record follows them: they were written before the audit log was keyed (start `weseek serve` once to cover them) or rewritten without the key")
            : new AuditVerification(count, null, null);
    }

    public void Dispose() => _append.Dispose();

    /// <summary>The unkeyed hash of records written before the chain was keyed: anyone can compute it.</summary>
    public static string HashOf(string previous, long id, long at, string kind, string data) =>
        Sha256($"{previous}\n{id}\n{at}\n{kind}\n{data}");

    /// <summary>The keyed hash: HMAC-SHA256 under a key derived from <paramref name="ringKey"/> for this use alone
    /// (HKDF; the ring key itself encrypts records), prefixed with the ring key's id.</summary>
    public static string KeyedHashOf(byte[] ringKey, string keyId, string previous, long id, long at, string kind, string data)
    {
        var macKey = HKDF.DeriveKey(HashAlgorithmName.SHA256, ringKey, 32, salt: [], info: "weseek audit chain"u8.ToArray());
        var mac = HMACSHA256.HashData(macKey, Encoding.UTF8.GetBytes($"{previous}\n{id}\n{at}\n{kind}\n{data}"));
        return KeyedPrefix + keyId + ":" + Convert.ToHexStringLower(mac);
    }

    public static string Sha256(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
}
