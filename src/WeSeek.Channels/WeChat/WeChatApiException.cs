namespace WeSeek.Channels.WeChat;

/// <summary>WeChat answered an API call with a non-zero <c>errcode</c>. The message carries errcode and
/// errmsg only (no token, no URL with a token).</summary>
public sealed class WeChatApiException : Exception
{
    /// <summary>Creates the exception.</summary>
    public WeChatApiException(int errorCode, string? errorMessage)
        : base($"WeChat errcode {errorCode}: {errorMessage}") => ErrorCode = errorCode;

    /// <summary>Creates the exception.</summary>
    public WeChatApiException() : this(-1, null) { }

    /// <summary>Creates the exception.</summary>
    public WeChatApiException(string message) : base(message) => ErrorCode = -1;

    /// <summary>Creates the exception.</summary>
    public WeChatApiException(string message, Exception innerException) : base(message, innerException) => ErrorCode = -1;

    /// <summary>WeChat's errcode.</summary>
    public int ErrorCode { get; }

    /// <summary>The token was refused: refresh once and retry once (40001 invalid credential, 40014 invalid
    /// token, 42001 expired).</summary>
    public bool IsTokenError => ErrorCode is 40001 or 40014 or 42001;
}
