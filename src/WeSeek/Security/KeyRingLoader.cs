using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WeSeek.Logging;
using WeSeek.Storage;

namespace WeSeek.Security;

/// <summary>
/// Loads the key ring from <see cref="EncryptionOptions"/>: the key file, the <c>Keys</c> value, or, when
/// neither is configured, <c>weseek.key</c> in the data directory, created on first start. Also the
/// start-up validator of the section, so a bad key file stops start-up naming the key to fix.
/// </summary>
internal sealed partial class KeyRingLoader : IValidateOptions<EncryptionOptions>
{
    /// <summary>The generated default key file's name, in the data directory.</summary>
    public const string DefaultKeyFileName = "weseek.key";

    public static KeyRing Create(IOptions<EncryptionOptions> options, IOptions<StorageOptions> storage, ILogger<KeyRing> logger) =>
        Load(options.Value, storage.Value.DataDirectory, logger);

    /// <summary>Loads the ring; creates the default key file when nothing is configured and it is missing.</summary>
    public static KeyRing Load(EncryptionOptions options, string dataDirectory, ILogger? logger)
    {
        var keys = new List<byte[]>();
        var sources = new List<string>();
        var keyFile = options.KeyFile;
        if (string.IsNullOrWhiteSpace(keyFile) && string.IsNullOrWhiteSpace(options.Keys))
        {
            keyFile = Path.GetFullPath(Path.Combine(dataDirectory, DefaultKeyFileName));
            if (!File.Exists(keyFile))
            {
                CreateKeyFile(keyFile);
                if (logger is not null)
                {
                    Log.KeyFileCreated(logger, keyFile);
                }
            }
        }

        if (!string.IsNullOrWhiteSpace(keyFile))
        {
            if (!File.Exists(keyFile))
            {
                throw new InvalidOperationException($"{Key("KeyFile")}: the key file {keyFile} does not exist.");
            }

            if (logger is not null && !OperatingSystem.IsWindows() && IsReadableByOthers(keyFile, out var mode))
            {
                Log.KeyFilePermissive(logger, keyFile, mode);
            }

            keys.AddRange(KeyRing.Parse(File.ReadAllText(keyFile), $"{Key("KeyFile")} ({keyFile})"));
            sources.Add(keyFile);
        }

        if (!string.IsNullOrWhiteSpace(options.Keys))
        {
            keys.AddRange(KeyRing.Parse(options.Keys, Key("Keys")));
            sources.Add("WESEEK__Security__Encryption__Keys");
        }

        if (keys.Count == 0)
        {
            throw new InvalidOperationException($"{Key("KeyFile")}: the key file {keyFile} holds no key.");
        }

        var ring = new KeyRing(keys, string.Join(" and ", sources));
        if (logger is not null)
        {
            Log.KeysLoaded(logger, keys.Count, ring.Source, ring.CurrentId);
        }

        return ring;
    }

    /// <summary>
    /// True when the group or others have any permission on the key file (or the link it is reached through is
    /// followed to such a file): ssh's test for private keys. WeSeek warns rather than refuses, so that an install
    /// whose key comes from a mounted secret with a wider mode still starts; the warning says how to fix it.
    /// </summary>
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    internal static bool IsReadableByOthers(string path, out string mode)
    {
        var info = new FileInfo(path);
        var target = info.ResolveLinkTarget(returnFinalTarget: true) as FileInfo ?? info;
        var bits = target.UnixFileMode;
        mode = Convert.ToString((int)bits & 0x1FF, 8).PadLeft(4, '0');
        return (bits & (UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute)) != 0;
    }

    /// <summary>Writes a key file with one new key, readable by its owner only (0600 where the OS has modes).</summary>
    public static void CreateKeyFile(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var streamOptions = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            streamOptions.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using var writer = new StreamWriter(path, System.Text.Encoding.ASCII, streamOptions);
        writer.WriteLine("# WeSeek encryption keys: one base64 AES-256 key per line, oldest first; the last one encrypts.");
        writer.WriteLine("# Back this file up apart from the database: without it the stored messages cannot be read.");
        writer.WriteLine(KeyRing.NewKeyLine());
    }

    public ValidateOptionsResult Validate(string? name, EncryptionOptions options)
    {
        try
        {
            if (!string.IsNullOrWhiteSpace(options.Keys))
            {
                KeyRing.Parse(options.Keys, Key("Keys"));
            }

            if (!string.IsNullOrWhiteSpace(options.KeyFile))
            {
                if (!File.Exists(options.KeyFile))
                {
                    return ValidateOptionsResult.Fail($"{Key("KeyFile")}: the key file {Path.GetFullPath(options.KeyFile)} does not exist (create one with `openssl rand -base64 32 > file; chmod 600 file`).");
                }

                if (KeyRing.Parse(File.ReadAllText(options.KeyFile), Key("KeyFile")).Count == 0)
                {
                    return ValidateOptionsResult.Fail($"{Key("KeyFile")}: the key file {Path.GetFullPath(options.KeyFile)} holds no key.");
                }
            }
        }
        catch (FormatException ex)
        {
            return ValidateOptionsResult.Fail(ex.Message);
        }

        return ValidateOptionsResult.Success;
    }

    private static string Key(string member) => $"Security:Encryption:{member} (environment variable WESEEK__Security__Encryption__{member})";

    private static partial class Log
    {
        [LoggerMessage(WeSeekEventId.EncryptionKeyFileCreated, LogLevel.Warning, "Created the encryption key file {Path} (mode 0600). Back it up apart from the database: stored messages cannot be read without it")]
        public static partial void KeyFileCreated(ILogger logger, string path);

        [LoggerMessage(WeSeekEventId.EncryptionKeyFilePermissive, LogLevel.Warning, "The encryption key file {Path} has mode {Mode}: other users of this machine can read the key that protects the stored messages and the audit log. Make it readable by its owner only: chmod 600 {Path}")]
        public static partial void KeyFilePermissive(ILogger logger, string path, string mode);

        [LoggerMessage(WeSeekEventId.EncryptionKeysLoaded, LogLevel.Information, "Loaded {Count} encryption keys from {Source}; new records use key {KeyId}")]
        public static partial void KeysLoaded(ILogger logger, int count, string source, string keyId);
    }
}
