using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace WeSeek.Security;

/// <summary>An admin API key as listed: never the key itself, which is shown once when it is created.</summary>
/// <param name="Id">The key's number, for <c>weseek admin key revoke</c>.</param>
/// <param name="Name">Who or what it is for, as given at creation.</param>
/// <param name="Prefix">The key's first characters, so an operator can tell keys apart.</param>
/// <param name="CreatedAt">When it was created.</param>
/// <param name="LastUsedAt">When it last opened the admin API, if ever.</param>
/// <param name="RevokedAt">When it was revoked; a revoked key opens nothing.</param>
/// <param name="Role">What the key may do.</param>
public sealed record AdminKeyInfo(long Id, string Name, string Prefix, DateTimeOffset CreatedAt, DateTimeOffset? LastUsedAt, DateTimeOffset? RevokedAt, AdminRole Role = AdminRole.Admin);

/// <summary>What an admin key may do; each role may do everything the ones before it may.</summary>
public enum AdminRole
{
    /// <summary>Sees status, charts, lists and settings; reads no transcript and changes nothing.</summary>
    Viewer = 0,

    /// <summary>Also reads transcripts (each read audited), resets chats, switches plugins, edits the knowledge base
    /// and word lists, logs in channels.</summary>
    Operator = 1,

    /// <summary>Also creates and revokes keys.</summary>
    Admin = 2,
}

/// <summary>Role names as stored, typed and shown: <c>viewer</c>, <c>operator</c>, <c>admin</c>.</summary>
public static class AdminRoles
{
    /// <summary>The stored name of a role.</summary>
    public static string Name(this AdminRole role) => role switch
    {
        AdminRole.Viewer => "viewer",
        AdminRole.Operator => "operator",
        _ => "admin",
    };

    /// <summary>Parses a role name (case-insensitive); false for anything else.</summary>
    public static bool TryParse(string? text, out AdminRole role)
    {
        foreach (var candidate in Enum.GetValues<AdminRole>())
        {
            if (string.Equals(text?.Trim(), candidate.Name(), StringComparison.OrdinalIgnoreCase))
            {
                role = candidate;
                return true;
            }
        }

        role = AdminRole.Viewer;
        return false;
    }

    internal static AdminRole Parse(string stored) => TryParse(stored, out var role) ? role : AdminRole.Viewer;
}

/// <summary>
/// Admin API keys, stored as SHA-256 hashes (<see cref="IAdminKeyStore"/>): a stolen database opens nothing.
/// A key is <c>wsk_</c> and 43 characters of base64url (256 random bits), so a plain SHA-256 is enough; a slow
/// password hash only helps keys a person chose. Creating and revoking a key is audited. Thread-safe.
/// </summary>
internal sealed class AdminKeys
{
    public const string KeyPrefix = "wsk_";

    private readonly IAdminKeyStore _store;
    private readonly AuditLog _audit;
    private readonly TimeProvider _time;

    public AdminKeys(IAdminKeyStore store, AuditLog audit, TimeProvider time)
    {
        _store = store;
        _audit = audit;
        _time = time;
    }

    /// <summary>Creates an admin key (every right); returns the key (shown to the operator once, stored nowhere) and its entry.</summary>
    public Task<(string Key, AdminKeyInfo Info)> CreateAsync(string name, CancellationToken cancellationToken) =>
        CreateAsync(name, AdminRole.Admin, cancellationToken);

    /// <summary>Creates a key with a role; returns the key (shown to the operator once, stored nowhere) and its entry.</summary>
    public async Task<(string Key, AdminKeyInfo Info)> CreateAsync(string name, AdminRole role, CancellationToken cancellationToken)
    {
        name = name.Trim();
        if (name.Length is 0 or > 100)
        {
            throw new ArgumentException("Give the key a name of 1-100 characters (who or what will use it).", nameof(name));
        }

        var key = KeyPrefix + System.Buffers.Text.Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));
        var prefix = key[..(KeyPrefix.Length + 6)];
        var now = _time.GetUtcNow();
        var id = await _store.AddAsync(name, prefix, Hash(key), role, now, cancellationToken);
        await _audit.AppendAsync("admin.key.created", new JsonObject { ["id"] = id, ["name"] = name, ["prefix"] = prefix, ["role"] = role.Name() }, cancellationToken);
        return (key, new AdminKeyInfo(id, name, prefix, now, null, null, role));
    }

    /// <summary>Every key, newest first, revoked ones included.</summary>
    public Task<IReadOnlyList<AdminKeyInfo>> ListAsync(CancellationToken cancellationToken) => _store.ListAsync(cancellationToken);

    /// <summary>Whether any key can open the admin API (one that is not revoked).</summary>
    public Task<bool> AnyActiveAsync(CancellationToken cancellationToken) => _store.AnyActiveAsync(cancellationToken);

    /// <summary>Revokes a key; false when no such key exists or it was already revoked.</summary>
    public async Task<bool> RevokeAsync(long id, CancellationToken cancellationToken)
    {
        var changed = await _store.RevokeAsync(id, _time.GetUtcNow(), cancellationToken);
        if (changed)
        {
            await _audit.AppendAsync("admin.key.revoked", new JsonObject { ["id"] = id }, cancellationToken);
        }

        return changed;
    }

    /// <summary>The active key a presented secret matches, or null; records when it was last used.</summary>
    public async Task<AdminKeyInfo?> AuthenticateAsync(string presented, CancellationToken cancellationToken)
    {
        if (!presented.StartsWith(KeyPrefix, StringComparison.Ordinal) || presented.Length > 200)
        {
            return null;
        }

        // Looked up by hash: the comparison is on digests of the input, so its timing tells nothing about a key.
        if (await _store.FindActiveAsync(Hash(presented), cancellationToken) is not { } info)
        {
            return null;
        }

        var now = _time.GetUtcNow();
        // Last use at minute resolution: one write a minute per key at most, not one per request.
        if (info.LastUsedAt is not { } last || now - last > TimeSpan.FromMinutes(1))
        {
            await _store.TouchAsync(info.Id, now, cancellationToken);
        }

        return info;
    }

    internal static string Hash(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));
}
