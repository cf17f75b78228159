namespace WeSeek.Media;

/// <summary>
/// Image descriptions by the SHA-256 of the image's bytes, encrypted like message bodies: the same picture
/// forwarded to many chats, or sent again, is described once. Thread-safe.
/// </summary>
internal interface IImageDescriptionStore
{
    /// <summary>The description stored for an image hash, or null.</summary>
    Task<string?> FindAsync(string hash, CancellationToken cancellationToken);

    /// <summary>Stores a description; a second writer of the same image keeps the first one's.</summary>
    Task StoreAsync(string hash, string description, string model, CancellationToken cancellationToken);
}
