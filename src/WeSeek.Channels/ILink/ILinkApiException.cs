namespace WeSeek.Channels.ILink;

/// <summary>iLink answered with a non-zero <c>ret</c> or <c>errcode</c>. The message carries the codes and
/// <c>errmsg</c> only, never a token.</summary>
public sealed class ILinkApiException : Exception
{
    /// <summary>The session expired (or was logged out elsewhere): only a new QR scan helps.</summary>
    public const int SessionExpired = -14;

    /// <summary>Rate limited: back off and try again.</summary>
    public const int RateLimited = -2;

    /// <summary>Creates the exception.</summary>
    public ILinkApiException(int ret, int? errorCode, string? errorMessage)
        : base($"iLink ret {ret}, errcode {errorCode?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none"}: {errorMessage}")
    {
        Ret = ret;
        ErrorCode = errorCode ?? 0;
    }

    /// <summary>Creates the exception.</summary>
    public ILinkApiException() : this(-1, null, null) { }

    /// <summary>Creates the exception.</summary>
    public ILinkApiException(string message) : base(message) => Ret = -1;

    /// <summary>Creates the exception.</summary>
    public ILinkApiException(string message, Exception innerException) : base(message, innerException) => Ret = -1;

    /// <summary>iLink's <c>ret</c>.</summary>
    public int Ret { get; }

    /// <summary>iLink's <c>errcode</c>; 0 when absent.</summary>
    public int ErrorCode { get; }

    /// <summary>True for <c>errcode -14</c> (either field): the bot must be scanned again.</summary>
    public bool IsSessionExpired => Ret == SessionExpired || ErrorCode == SessionExpired;

    /// <summary>True for <c>ret=-2</c> (either field).</summary>
    public bool IsRateLimited => Ret == RateLimited || ErrorCode == RateLimited;
}
