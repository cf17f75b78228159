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
        var generated = false;
        if (string.IsNullOrWhiteSpace(keyFile) && string.IsNullOrWhiteSpace(options.Keys))
        {
            generated = true;
            keyFile = Path.GetFullPath(Path.Combine(dataDirectory, DefaultKeyFileName));
            if (!File.Exists(keyFile) && CreateKeyFile(keyFile) && logger is not null)
            {
                Log.KeyFileCreated(logger, keyFile);
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

            var text = generated ? ReadDefaultKeyFile(keyFile) : File.ReadAllText(keyFile);
            keys.AddRange(KeyRing.Parse(text, $"{Key("KeyFile")} ({keyFile})"));
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

    /// <summary>
    /// Writes a key file with one new key, readable by its owner only (0600 where the OS has modes); false when
    /// another process made it first (its key is kept: the file is created exclusively). Instances sharing a data
    /// directory start at the same moment on a first install (two `weseek serve` on one volume did): the others read
    /// the file the first one writes, waiting for its key (<see cref="ReadDefaultKeyFile"/>).
    /// </summary>
    public static bool CreateKeyFile(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var streamOptions = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            streamOptions.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        FileStream stream;
        try
        {
            stream = new FileStream(path, streamOptions);
        }
        catch (IOException) when (File.Exists(path))
        {
            return false; // Another instance is making it: its key is the installation's key.
        }

        // One write of the whole text, so a reader sees no key or the whole key.
        var text = "# WeSeek encryption keys: one base64 AES-256 key per line, oldest first; the last one encrypts.\n" +
            "# Back this file up apart from the database: without it the stored messages cannot be read.\n" +
            KeyRing.NewKeyLine() + "\n";
        using (stream)
        {
            stream.Write(System.Text.Encoding.ASCII.GetBytes(text));
            stream.Flush(flushToDisk: true);
        }

        return true;
    }

    /// <summary>The generated key file's text. Another instance may have created it a moment ago and not written it
    /// yet: a file without a readable key that was written in the last ten seconds is read again, for up to five.</summary>
    private static string ReadDefaultKeyFile(string path)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        while (true)
        {
            var text = File.ReadAllText(path);
            if (HoldsAKey(text) || System.Diagnostics.Stopwatch.GetElapsedTime(started) > TimeSpan.FromSeconds(5)
                || TimeProvider.System.GetUtcNow().UtcDateTime - File.GetLastWriteTimeUtc(path) > TimeSpan.FromSeconds(10))
            {
                return text; // Complete, or not being written: its parse says what is wrong with it.
            }

            // Only in that race at first start, and the writer needs a millisecond: yield rather than block a timer.
            Thread.Yield();
        }

        static bool HoldsAKey(string text)
        {
            try
            {
                return KeyRing.Parse(text, "").Count > 0;
            }
            catch (FormatException)
            {
                return false;
            }
        }
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
