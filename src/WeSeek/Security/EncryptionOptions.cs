namespace WeSeek.Security;

/// <summary>
/// Where the keys that encrypt stored message bodies come from. Section <c>Security:Encryption</c>.
/// Keys never live in the repository or in appsettings.json: a key file outside it, or an environment variable.
/// </summary>
public sealed class EncryptionOptions
{
    /// <summary>
    /// A key file: one base64 AES-256 key (32 bytes) per line, oldest first, <c>#</c> comments allowed. The last
    /// key encrypts new records; every key decrypts. Default empty: <c>weseek.key</c> in the data directory,
    /// created with mode 0600 on first start, so a default install is encrypted without any set-up.
    /// </summary>
    public string? KeyFile { get; set; }

    /// <summary>
    /// Keys given directly, base64, separated by <c>,</c> or <c>;</c>, oldest first; meant for the environment
    /// variable <c>WESEEK__Security__Encryption__Keys</c> (a secret store or Kubernetes Secret). Used with
    /// <see cref="KeyFile"/> when both are set: the file's keys decrypt, and the last of these encrypts.
    /// Default empty.
    /// </summary>
    public string? Keys { get; set; }
}
