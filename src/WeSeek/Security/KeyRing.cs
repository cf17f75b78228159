using System.Security.Cryptography;

namespace WeSeek.Security;

/// <summary>
/// The AES-256 keys WeSeek knows, each named by an id derived from the key itself (the first 8 bytes of its
/// SHA-256, hex), so a record's key id says which key it needs and never reveals the key. The newest key
/// encrypts; all of them decrypt. Immutable and thread-safe.
/// </summary>
internal sealed class KeyRing
{
    /// <summary>AES-256.</summary>
    public const int KeySize = 32;

    private readonly Dictionary<string, byte[]> _keys;

    public KeyRing(IReadOnlyList<byte[]> keys, string source)
    {
        if (keys.Count == 0)
        {
            throw new ArgumentException("A key ring needs at least one key.", nameof(keys));
        }

        _keys = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var key in keys)
        {
            if (key.Length != KeySize)
            {
                throw new ArgumentException($"Encryption keys are {KeySize} bytes (AES-256).", nameof(keys));
            }

            _keys[IdOf(key)] = key;
        }

        CurrentId = IdOf(keys[^1]);
        Source = source;
    }

    /// <summary>The id of the key that encrypts new records.</summary>
    public string CurrentId { get; }

    /// <summary>Where the keys came from, for messages (a path or the variable's name, never a key).</summary>
    public string Source { get; }

    /// <summary>Every configured key id, in no particular order.</summary>
    public IReadOnlyCollection<string> Ids => _keys.Keys;

    public byte[] Current => _keys[CurrentId];

    public bool TryGet(string keyId, out byte[] key) => _keys.TryGetValue(keyId, out key!);

    public static string IdOf(ReadOnlySpan<byte> key) => Convert.ToHexStringLower(SHA256.HashData(key)[..8]);

    /// <summary>Parses keys from a file's text or a variable's value; throws <see cref="FormatException"/>
    /// naming the line (never the key) when one is not 32 bytes of base64.</summary>
    public static List<byte[]> Parse(string text, string source)
    {
        var keys = new List<byte[]>();
        var entries = text.Split(['\n', '\r'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(line => !line.StartsWith('#'))
            .SelectMany(line => line.Split([',', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            .ToList();
        for (var i = 0; i < entries.Count; i++)
        {
            var buffer = new byte[KeySize + 3];
            if (!Convert.TryFromBase64String(entries[i], buffer, out var written) || written != KeySize)
            {
                throw new FormatException($"{source}: key {i + 1} is not a base64 AES-256 key (32 bytes; make one with `openssl rand -base64 32`).");
            }

            keys.Add(buffer[..KeySize]);
        }

        return keys;
    }

    /// <summary>A new random key as a key-file line.</summary>
    public static string NewKeyLine() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(KeySize));

    // Never the keys themselves: a ring that ends up in a log or a debugger shows ids only.
    public override string ToString() => $"KeyRing({_keys.Count} keys, current {CurrentId})";
}
