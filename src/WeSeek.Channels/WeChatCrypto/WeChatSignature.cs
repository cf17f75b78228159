using System.Security.Cryptography;
using System.Text;

namespace WeSeek.Channels.WeChatCrypto;

/// <summary>
/// WeChat's request signatures: SHA-1 over the fields sorted ordinally and concatenated without separator,
/// as lower-case hex. Three fields (token, timestamp, nonce) for the plain <c>signature</c>; four (plus
/// <c>Encrypt</c> or <c>echostr</c>) for <c>msg_signature</c>.
/// </summary>
public static class WeChatSignature
{
    /// <summary>Computes the signature of <paramref name="fields"/>.</summary>
    public static string Compute(params string[] fields)
    {
        ArgumentNullException.ThrowIfNull(fields);
        var sorted = (string[])fields.Clone();
        // Ordinal, never culture-aware: the default comparer orders "abc" before "Bxyz" (protocols.md §3).
        Array.Sort(sorted, StringComparer.Ordinal);
        // SHA-1 is WeChat's choice, not ours: the protocol fixes it and the platform signs with it.
#pragma warning disable CA5350
        var hash = SHA1.HashData(Encoding.UTF8.GetBytes(string.Concat(sorted)));
#pragma warning restore CA5350
        return Convert.ToHexStringLower(hash);
    }

    /// <summary>True when <paramref name="signature"/> is the signature of <paramref name="fields"/>, compared in
    /// constant time so a caller cannot learn the right signature byte by byte from response times.</summary>
    public static bool Verify(string? signature, params string[] fields)
    {
        if (string.IsNullOrEmpty(signature) || signature.Length != 40)
        {
            return false;
        }

        var expected = Encoding.ASCII.GetBytes(Compute(fields));
        var actual = Encoding.ASCII.GetBytes(signature.ToLowerInvariant());
        return CryptographicOperations.FixedTimeEquals(expected, actual);
    }
}
