using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace WeSeek.Channels.WeChatCrypto;

/// <summary>
/// WXBizMsgCrypt, the message encryption of 公众号 safe mode, the open platform and 企业微信 callbacks:
/// AES-256-CBC with IV = key[0..16), PKCS#7 padding to a multiple of <b>32</b> bytes, plaintext
/// <c>random(16) ‖ length (4, big-endian) ‖ message ‖ receiveid</c>. Immutable and thread-safe.
/// </summary>
/// <remarks>
/// The padding is done by hand with <see cref="PaddingMode.None"/>: .NET's PKCS#7 pads to the 16-byte AES
/// block and rejects real traffic, whose pad values run to 32 (vector V1 has 30).
/// </remarks>
public sealed class WeChatMessageCrypto
{
    private const int PadBlock = 32;
    private readonly byte[] _key;
    private readonly byte[] _receiveId;

    /// <summary>Creates the codec for one account.</summary>
    /// <param name="token">The callback Token (signatures).</param>
    /// <param name="encodingAesKey">The 43-character EncodingAESKey.</param>
    /// <param name="receiveId">The AppID (公众号) or CorpID (企业微信) every plaintext must end with.</param>
    /// <exception cref="WeChatCryptoException">The key is not 43 characters of Base64 (−40004).</exception>
    public WeChatMessageCrypto(string token, string encodingAesKey, string receiveId)
    {
        ArgumentNullException.ThrowIfNull(token);
        ArgumentNullException.ThrowIfNull(receiveId);
        Token = token;
        _key = DecodeKey(encodingAesKey);
        _receiveId = Encoding.UTF8.GetBytes(receiveId);
    }

    /// <summary>The callback Token.</summary>
    public string Token { get; }

    /// <summary>True when <paramref name="encodingAesKey"/> is usable: 43 characters that decode to 32 bytes.</summary>
    public static bool IsValidKey(string? encodingAesKey)
    {
        try
        {
            DecodeKey(encodingAesKey);
            return true;
        }
        catch (WeChatCryptoException)
        {
            return false;
        }
    }

    /// <summary>Checks a 4-field <c>msg_signature</c> and decrypts <paramref name="encrypted"/>.</summary>
    /// <exception cref="WeChatCryptoException">Signature, Base64, padding, framing or receiveid is wrong.</exception>
    public string VerifyAndDecrypt(string? msgSignature, string timestamp, string nonce, string encrypted)
    {
        if (!WeChatSignature.Verify(msgSignature, Token, timestamp, nonce, encrypted))
        {
            throw new WeChatCryptoException(WeChatCryptoError.InvalidSignature, "msg_signature does not match.");
        }

        return Decrypt(encrypted);
    }

    /// <summary>Decrypts a Base64 <c>Encrypt</c> value (no signature check) and checks the receiveid.</summary>
    /// <exception cref="WeChatCryptoException">Base64, padding, framing or receiveid is wrong.</exception>
    public string Decrypt(string encrypted)
    {
        ArgumentNullException.ThrowIfNull(encrypted);
        byte[] cipher;
        try
        {
            cipher = Convert.FromBase64String(encrypted);
        }
        catch (FormatException)
        {
            throw new WeChatCryptoException(WeChatCryptoError.InvalidBase64, "Encrypt is not Base64.");
        }

        if (cipher.Length == 0 || cipher.Length % PadBlock != 0)
        {
            throw new WeChatCryptoException(WeChatCryptoError.DecryptFailed, "The ciphertext is not a whole number of 32-byte blocks.");
        }

        byte[] plain;
        using (var aes = Aes.Create())
        {
            aes.Key = _key;
            plain = aes.DecryptCbc(cipher, _key.AsSpan(0, 16), PaddingMode.None);
        }

        var pad = plain[^1];
        if (pad is < 1 or > PadBlock || plain.AsSpan(plain.Length - pad).ContainsAnyExcept(pad))
        {
            throw new WeChatCryptoException(WeChatCryptoError.DecryptFailed, "Bad padding.");
        }

        var content = plain.AsSpan(0, plain.Length - pad);
        if (content.Length < 20)
        {
            throw new WeChatCryptoException(WeChatCryptoError.InvalidBuffer, "The plaintext is too short.");
        }

        // Big-endian (network order), not BitConverter: x86 would read it backwards.
        var length = BinaryPrimitives.ReadInt32BigEndian(content.Slice(16, 4));
        if (length < 0 || length > content.Length - 20)
        {
            throw new WeChatCryptoException(WeChatCryptoError.InvalidBuffer, "The length field exceeds the plaintext.");
        }

        if (!content[(20 + length)..].SequenceEqual(_receiveId))
        {
            throw new WeChatCryptoException(WeChatCryptoError.InvalidReceiveId, "The receiveid does not match this account.");
        }

        try
        {
            return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(content.Slice(20, length));
        }
        catch (DecoderFallbackException)
        {
            throw new WeChatCryptoException(WeChatCryptoError.InvalidBuffer, "The message is not UTF-8.");
        }
    }

    /// <summary>Encrypts <paramref name="message"/> with a fresh random prefix.</summary>
    public string Encrypt(string message)
    {
        Span<byte> random = stackalloc byte[16];
        RandomNumberGenerator.Fill(random);
        return Encrypt(random, message);
    }

    /// <summary>Encrypts with a given 16-byte prefix: deterministic, for the published test vectors.</summary>
    public string Encrypt(ReadOnlySpan<byte> random, string message)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (random.Length != 16)
        {
            throw new ArgumentException("The random prefix is 16 bytes.", nameof(random));
        }

        var body = Encoding.UTF8.GetBytes(message);
        var length = 20 + body.Length + _receiveId.Length;
        var pad = PadBlock - (length % PadBlock);
        var plain = new byte[length + pad];
        random.CopyTo(plain);
        BinaryPrimitives.WriteInt32BigEndian(plain.AsSpan(16, 4), body.Length);
        body.CopyTo(plain, 20);
        _receiveId.CopyTo(plain, 20 + body.Length);
        plain.AsSpan(length).Fill((byte)pad);
        using var aes = Aes.Create();
        aes.Key = _key;
        return Convert.ToBase64String(aes.EncryptCbc(plain, _key.AsSpan(0, 16), PaddingMode.None));
    }

    /// <summary>The encrypted reply envelope (<c>Encrypt</c>, <c>MsgSignature</c>, <c>TimeStamp</c>, <c>Nonce</c>;
    /// element names are case-sensitive).</summary>
    public string EncryptReply(string message, string timestamp, string nonce) =>
        Envelope(Encrypt(message), timestamp, nonce);

    /// <summary>Wraps an already encrypted value in the signed reply envelope.</summary>
    public string Envelope(string encrypted, string timestamp, string nonce)
    {
        var signature = WeChatSignature.Compute(Token, timestamp, nonce, encrypted);
        return $"<xml>\n<Encrypt><![CDATA[{encrypted}]]></Encrypt>\n<MsgSignature><![CDATA[{signature}]]></MsgSignature>\n<TimeStamp>{timestamp}</TimeStamp>\n<Nonce><![CDATA[{nonce}]]></Nonce>\n</xml>";
    }

    private static byte[] DecodeKey(string? encodingAesKey)
    {
        if (encodingAesKey is null || encodingAesKey.Length != 43 || !encodingAesKey.All(char.IsAsciiLetterOrDigit))
        {
            throw new WeChatCryptoException(WeChatCryptoError.InvalidAesKey, "EncodingAESKey must be 43 letters and digits.");
        }

        // The 43 characters are Base64 without its padding; the spare bits of the last one are often set,
        // which Convert accepts.
        return Convert.FromBase64String(encodingAesKey + "=");
    }
}
