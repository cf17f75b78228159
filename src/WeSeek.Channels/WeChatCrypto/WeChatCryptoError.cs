namespace WeSeek.Channels.WeChatCrypto;

/// <summary>Why a WXBizMsgCrypt operation failed. The values are the official samples' error codes
/// (<c>ierror.py</c>), so a log line can be compared with Tencent's documentation.</summary>
public enum WeChatCryptoError
{
    /// <summary>The signature does not match (−40001).</summary>
    InvalidSignature = -40001,

    /// <summary>The XML could not be parsed, or it holds a DTD (−40002).</summary>
    InvalidXml = -40002,

    /// <summary>The EncodingAESKey is not 43 characters of the Base64 alphabet (−40004).</summary>
    InvalidAesKey = -40004,

    /// <summary>The receiveid at the end of the plaintext is not this account's AppID or CorpID (−40005).</summary>
    InvalidReceiveId = -40005,

    /// <summary>AES decryption failed: bad length or padding (−40007).</summary>
    DecryptFailed = -40007,

    /// <summary>The plaintext's framing (length field) is inconsistent (−40008).</summary>
    InvalidBuffer = -40008,

    /// <summary>The ciphertext is not Base64 (−40010).</summary>
    InvalidBase64 = -40010,
}

/// <summary>A WXBizMsgCrypt operation failed; <see cref="Error"/> says why. Never carries key material.</summary>
public sealed class WeChatCryptoException : Exception
{
    /// <summary>Creates the exception.</summary>
    public WeChatCryptoException(WeChatCryptoError error, string message)
        : base(message) => Error = error;

    /// <summary>Creates the exception.</summary>
    public WeChatCryptoException() : this(WeChatCryptoError.InvalidBuffer, "WeChat crypto failed.") { }

    /// <summary>Creates the exception.</summary>
    public WeChatCryptoException(string message) : this(WeChatCryptoError.InvalidBuffer, message) { }

    /// <summary>Creates the exception.</summary>
    public WeChatCryptoException(string message, Exception innerException) : base(message, innerException) => Error = WeChatCryptoError.InvalidBuffer;

    /// <summary>The official error code.</summary>
    public WeChatCryptoError Error { get; }
}
