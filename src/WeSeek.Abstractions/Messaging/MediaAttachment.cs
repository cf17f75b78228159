namespace WeSeek.Messaging;

/// <summary>
/// A picture, voice note, video or file that came with an inbound message, as the platform refers to it.
/// Stored with the message; the bytes are fetched when the turn runs (<see cref="IMediaSource"/>), because
/// platforms keep media for days while a stored message may wait for a retry.
/// </summary>
/// <param name="Kind">What it is: <see cref="MessageKind.Image"/>, <see cref="MessageKind.Voice"/> or <see cref="MessageKind.Other"/>.</param>
/// <param name="MediaId">The platform's media id (WeChat's <c>MediaId</c>), if any.</param>
/// <param name="Url">A URL the platform gave for it (WeChat's <c>PicUrl</c>), if any.</param>
public sealed record MediaAttachment(MessageKind Kind, string? MediaId, string? Url);

/// <summary>Bytes of a downloaded attachment.</summary>
/// <param name="Data">The content.</param>
/// <param name="MediaType">Its media type, e.g. <c>image/jpeg</c>.</param>
public sealed record MediaContent(ReadOnlyMemory<byte> Data, string MediaType);

/// <summary>Implemented by channels that can fetch their messages' attachments (WeChat's media API).</summary>
public interface IMediaSource
{
    /// <summary>
    /// Downloads <paramref name="attachment"/> of <paramref name="message"/>, refusing anything larger than
    /// <paramref name="maxBytes"/>. Throws <see cref="MediaUnavailableException"/> when the platform cannot
    /// give it (expired, unknown, too large); transport errors propagate.
    /// </summary>
    Task<MediaContent> DownloadAsync(InboundMessage message, MediaAttachment attachment, long maxBytes, CancellationToken cancellationToken);
}

/// <summary>An attachment the platform cannot give (expired media id, unknown, larger than allowed).</summary>
public sealed class MediaUnavailableException : Exception
{
    /// <summary>Creates the exception.</summary>
    public MediaUnavailableException() : this("The attachment is not available.") { }

    /// <summary>Creates the exception.</summary>
    public MediaUnavailableException(string message) : base(message) { }

    /// <summary>Creates the exception.</summary>
    public MediaUnavailableException(string message, Exception innerException) : base(message, innerException) { }
}
