using System.Security.Cryptography;
using System.Text;
using System.Data.Common;
using WeSeek.Storage;

namespace WeSeek.Security;

/// <summary>
/// Encrypts stored message bodies with AES-256-GCM. A record is <c>version (1) | nonce (12) | tag (16) |
/// ciphertext</c>, stored as a BLOB beside the id of the key that made it. The nonce is random per record
/// (96 bits: at 2^32 records per key the collision chance stays below 2^-32, NIST SP 800-38D §8.3). The
/// associated data is the record's purpose — table, column and the row's natural key — so a blob copied to
/// another column or row fails authentication instead of decrypting as someone else's message.
/// Rows with no key id are plaintext from before encryption and are read as they are. Thread-safe.
/// </summary>
internal sealed class RecordCipher
{
    private const byte Version = 1;
    private const int NonceSize = 12;
    private const int TagSize = 16;
    private const int HeaderSize = 1 + NonceSize + TagSize;

    private readonly KeyRing _ring;

    public RecordCipher(KeyRing ring) => _ring = ring;

    public KeyRing Ring => _ring;

    /// <summary>The purpose of an inbound message's text: its channel and the platform's message id.</summary>
    public static string InboxText(string channel, string externalId) => $"inbox.text\n{channel}\n{externalId}";

    /// <summary>The purpose of a reply's text: the message it answers and its place among the replies.</summary>
    public static string OutboxText(long inboxId, long seq) => $"outbox.text\n{inboxId}\n{seq}";

    /// <summary>The purpose of a history entry: the message of its turn and its role.</summary>
    public static string HistoryContent(long inboxId, string role) => $"history.content\n{inboxId}\n{role}";

    /// <summary>The purpose of an image's description: the SHA-256 of the image.</summary>
    public static string ImageDescription(string hash) => $"image_descriptions.description\n{hash}";

    /// <summary>Encrypts <paramref name="plaintext"/> with the newest key.</summary>
    public (byte[] Blob, string KeyId) Encrypt(string plaintext, string purpose)
    {
        var data = Encoding.UTF8.GetBytes(plaintext);
        var blob = new byte[HeaderSize + data.Length];
        blob[0] = Version;
        var nonce = blob.AsSpan(1, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using (var aes = new AesGcm(_ring.Current, TagSize))
        {
            aes.Encrypt(nonce, data, blob.AsSpan(HeaderSize), blob.AsSpan(1 + NonceSize, TagSize), Encoding.UTF8.GetBytes(purpose));
        }

        return (blob, _ring.CurrentId);
    }

    /// <summary>Decrypts a record; throws <see cref="RecordDecryptionException"/> naming the key id or the purpose.</summary>
    public string Decrypt(byte[] blob, string keyId, string purpose)
    {
        if (!_ring.TryGet(keyId, out var key))
        {
            throw new RecordDecryptionException(keyId, $"A stored record ({Describe(purpose)}) is encrypted with key {keyId}, which is not configured. Add that key to Security:Encryption:KeyFile or WESEEK__Security__Encryption__Keys (configured keys: {string.Join(", ", _ring.Ids)}).");
        }

        if (blob.Length < HeaderSize || blob[0] != Version)
        {
            throw new RecordDecryptionException(keyId, $"A stored record ({Describe(purpose)}) is not in a known encrypted format.");
        }

        var plaintext = new byte[blob.Length - HeaderSize];
        try
        {
            using var aes = new AesGcm(key, TagSize);
            aes.Decrypt(blob.AsSpan(1, NonceSize), blob.AsSpan(HeaderSize), blob.AsSpan(1 + NonceSize, TagSize), plaintext, Encoding.UTF8.GetBytes(purpose));
        }
        catch (AuthenticationTagMismatchException)
        {
            throw new RecordDecryptionException(keyId, $"A stored record ({Describe(purpose)}) failed authentication with key {keyId}: it was altered or moved from another row.");
        }

        return Encoding.UTF8.GetString(plaintext);
    }

    /// <summary>Adds <c>@name</c> (the encrypted text) and <c>@name_key</c> (its key id) to a command.</summary>
    public void Bind(DbCommand command, string name, string plaintext, string purpose)
    {
        var (blob, keyId) = Encrypt(plaintext, purpose);
        command.AddBinary(name, blob);
        command.AddParameter(name + "_key", keyId);
    }

    /// <summary>Reads a text column and its key-id column: plaintext when the key id is NULL (rows written
    /// before encryption), decrypted otherwise.</summary>
    public string Read(DbDataReader reader, int textOrdinal, int keyOrdinal, string purpose) =>
        reader.IsDBNull(keyOrdinal)
            ? reader.GetFieldType(textOrdinal) == typeof(byte[]) ? Encoding.UTF8.GetString(reader.GetFieldValue<byte[]>(textOrdinal)) : reader.GetString(textOrdinal)
            : Decrypt(reader.GetFieldValue<byte[]>(textOrdinal), reader.GetString(keyOrdinal), purpose);

    // The purpose names the table and row ids; the message's own ids (the third line) are left out.
    private static string Describe(string purpose)
    {
        var parts = purpose.Split('\n');
        return parts.Length > 2 && parts[0] == "inbox.text" ? parts[0] : string.Join(' ', parts);
    }
}

/// <summary>A stored record could not be decrypted: its key is not configured, or it was altered.</summary>
public sealed class RecordDecryptionException : CryptographicException
{
    public RecordDecryptionException(string keyId, string message) : base(message) => KeyId = keyId;

    /// <summary>The key id the record carries.</summary>
    public string KeyId { get; }
}
