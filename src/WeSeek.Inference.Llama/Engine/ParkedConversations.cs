using System.Diagnostics;
using System.Security.Cryptography;
using LLama.Batched;
using LLama.Native;
using Microsoft.Extensions.Logging;
using WeSeek.Logging;

namespace WeSeek.Inference.Llama.Engine;

/// <summary>
/// Idle conversations' KV caches moved out of their sequences so the sequences can serve others: in memory
/// first, then, when the memory budget is spent, on disk; restored on the conversation's next message.
/// Least recently used leave memory first and are forgotten first (their next turn prefills in full).
/// </summary>
/// <remarks>
/// Written by hand over llama.cpp's per-sequence state calls (<c>llama_state_seq_get_data</c> and
/// <c>_set_data</c>) rather than LLamaSharp's <c>Conversation.Save</c>: its in-memory state cannot be written
/// out, and its file round trip (0.30) did not keep the conversation's position, so a restored conversation
/// continued differently. Here the bytes are ours, the position is set back explicitly, and memory and disk
/// hold the same bytes. Disk files live in a directory of this engine's own (removed on dispose; ones left by
/// a process that died are removed at the next start), because a state is only valid for the context that
/// wrote it. Files are written off the scheduler thread; until a write finishes, the bytes stay in memory
/// and a restore uses them. Used by the scheduler thread only.
/// <para>
/// A parked cache is the conversation in another form, so its file is encrypted (AES-256-GCM, bound to its file
/// name) and created 0600. The key is the engine's own, random and held only in memory, not the key ring's: the
/// file is useless to any other process anyway, and a key that dies with the process makes a file copied off the
/// disk unreadable even to whoever holds the key ring.
/// </para>
/// </remarks>
internal sealed partial class ParkedConversations : IAsyncDisposable
{
    private const string DirectoryPrefix = "engine-";
    private readonly Dictionary<string, Parked> _entries = new(StringComparer.Ordinal);
    private readonly List<Task> _writes = []; // Files being written, awaited before the folder is removed.
    private readonly LlamaEngineOptions _options;
    private readonly ILogger _logger;
    private readonly string? _directory;
    private readonly byte[] _fileKey = RandomNumberGenerator.GetBytes(32);
    private readonly LlamaEngineMetrics _metrics;
    private long _memoryBytes;
    private long _diskBytes;
    private int _inMemory;
    private int _onDisk;
    private long _parked;
    private long _restored;
    private long _fileNumber;
    private int _pendingWrites;

    public ParkedConversations(LlamaEngineOptions options, string? parkingRoot, LlamaEngineMetrics metrics, ILogger logger)
    {
        _metrics = metrics;
        _options = options;
        _logger = logger;
        if (parkingRoot is not null && options.MaxParkedOnDisk > 0)
        {
            RemoveAbandoned(parkingRoot);
            _directory = Path.Combine(parkingRoot, $"{DirectoryPrefix}{Environment.ProcessId}-{Guid.NewGuid():N}");
            Directory.CreateDirectory(_directory);
        }
    }

    /// <summary>Caches parked and restored since start, and where the parked ones are now.</summary>
    public ParkingSnapshot Snapshot => new(Interlocked.Read(ref _parked), Interlocked.Read(ref _restored), _inMemory, _onDisk, _memoryBytes, _diskBytes, Volatile.Read(ref _pendingWrites));

    /// <summary>Saves <paramref name="conversation"/>'s KV cache and disposes it, which frees its sequence.
    /// With both budgets at zero the cache is simply dropped.</summary>
    public void Park(string key, Conversation conversation, List<LLama.Native.LLamaToken> tokens, long lastUsed, SafeLLamaContextHandle context)
    {
        try
        {
            Save(key, conversation, tokens, lastUsed, context);
        }
        finally
        {
            conversation.Dispose();
        }
    }

    /// <summary>Saves <paramref name="conversation"/>'s KV cache as <see cref="Park"/> does but leaves the sequence
    /// as it is, for the caller to reuse (<see cref="LlamaEngine"/> hands it, cut back to the shared system prompt, to
    /// a new conversation).</summary>
    public void ParkCopy(string key, Conversation conversation, List<LLama.Native.LLamaToken> tokens, long lastUsed, SafeLLamaContextHandle context) =>
        Save(key, conversation, tokens, lastUsed, context);

    private void Save(string key, Conversation conversation, List<LLama.Native.LLamaToken> tokens, long lastUsed, SafeLLamaContextHandle context)
    {
        Forget(key);
        if (conversation.RequiresInference || (_options.MaxParkedInMemory == 0 && _directory is null))
        {
            return;
        }

        var bytes = SaveState(context, conversation.ConversationId);
        var parked = new Parked(tokens, lastUsed) { Bytes = bytes, Size = bytes.Length };
        _entries[key] = parked;
        _inMemory++;
        _memoryBytes += bytes.Length;
        Interlocked.Increment(ref _parked);
        _metrics.Parked.Add(1, new KeyValuePair<string, object?>("tier", "memory"));
        Trim();
    }

    /// <summary>Loads <paramref name="key"/>'s parked cache into a new sequence; null when nothing is parked
    /// for it or the state could not be loaded (the turn then prefills in full).</summary>
    public (Conversation Conversation, List<LLama.Native.LLamaToken> Tokens)? Restore(string key, BatchedExecutor executor)
    {
        if (!_entries.Remove(key, out var parked))
        {
            return null;
        }

        var tier = parked.File is null ? "memory" : "disk";
        byte[]? bytes;
        try
        {
            bytes = Volatile.Read(ref parked.Bytes) ?? ReadFile(parked);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Log.RestoreFailed(_logger, ex);
            bytes = null;
        }
        finally
        {
            Release(parked);
        }

        if (bytes is null)
        {
            return null;
        }

        var conversation = executor.Create();
        if (!LoadState(executor.Context.NativeHandle, conversation.ConversationId, bytes))
        {
            // No room in the KV cache for it, or a state this context cannot read: prefill instead.
            conversation.Dispose();
            Log.StateRejected(_logger, bytes.Length);
            return null;
        }

        var end = parked.Tokens.Count;
        conversation.Modify((_, _) => end);
        Interlocked.Increment(ref _restored);
        _metrics.Restored.Add(1, new KeyValuePair<string, object?>("tier", tier));
        return (conversation, parked.Tokens);
    }

    /// <summary>The tokens <paramref name="key"/>'s parked cache holds; null when nothing is parked for it.</summary>
    public List<LLama.Native.LLamaToken>? TokensOf(string key) => _entries.TryGetValue(key, out var parked) ? parked.Tokens : null;

    /// <summary>Forgets <paramref name="key"/>'s parked cache, if any (a newer cache replaces it).</summary>
    public void Forget(string key)
    {
        if (_entries.Remove(key, out var stale))
        {
            Release(stale);
        }
    }

    /// <summary>Forgets every parked cache (they were computed under LoRA adapters that no longer apply); returns how many.</summary>
    public int ForgetAll()
    {
        var count = _entries.Count;
        foreach (var parked in _entries.Values)
        {
            Release(parked);
        }

        _entries.Clear();
        return count;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var parked in _entries.Values)
        {
            Release(parked);
        }

        _entries.Clear();
        if (_directory is not null)
        {
            try
            {
                // The folder is deleted below; a write still in flight must not recreate a file in it.
                await Task.WhenAll(_writes).WaitAsync(TimeSpan.FromSeconds(10));
            }
            catch (TimeoutException)
            {
                // Deleted at the next start instead (the process will have stopped by then).
            }

            TryDeleteDirectory(_directory);
        }
    }

    /// <summary>Moves the least recently used out of memory while over the memory budget (to disk when it
    /// has room), then forgets the least recently used while over the disk budget.</summary>
    private void Trim()
    {
        var memoryLimit = (long)_options.MaxParkedInMemoryMiB << 20;
        while (_inMemory > _options.MaxParkedInMemory || _memoryBytes > memoryLimit)
        {
            var oldest = Oldest(inMemory: true);
            if (oldest is null)
            {
                break;
            }

            if (_directory is not null && oldest.Value.Value.Size <= (long)_options.MaxParkedOnDiskMiB << 20)
            {
                Spill(oldest.Value.Value);
            }
            else
            {
                _entries.Remove(oldest.Value.Key);
                Release(oldest.Value.Value);
            }
        }

        var diskLimit = (long)_options.MaxParkedOnDiskMiB << 20;
        while (_onDisk > _options.MaxParkedOnDisk || _diskBytes > diskLimit)
        {
            var oldest = Oldest(inMemory: false);
            if (oldest is null)
            {
                break;
            }

            _entries.Remove(oldest.Value.Key);
            Release(oldest.Value.Value);
        }

        _writes.RemoveAll(w => w.IsCompleted);
    }

    private KeyValuePair<string, Parked>? Oldest(bool inMemory)
    {
        KeyValuePair<string, Parked>? oldest = null;
        foreach (var entry in _entries)
        {
            if ((entry.Value.File is null) == inMemory && (oldest is null || entry.Value.LastUsed < oldest.Value.Value.LastUsed))
            {
                oldest = entry;
            }
        }

        return oldest;
    }

    private void Spill(Parked parked)
    {
        var path = Path.Combine(_directory!, $"{++_fileNumber}.kv");
        var bytes = parked.Bytes!;
        parked.File = path;
        _inMemory--;
        _memoryBytes -= parked.Size;
        _onDisk++;
        _diskBytes += parked.Size;
        _metrics.Parked.Add(1, new KeyValuePair<string, object?>("tier", "disk"));
        Interlocked.Increment(ref _pendingWrites);
        parked.Writing = Task.Run(() =>
        {
            try
            {
                WriteEncrypted(path, bytes);
                Volatile.Write(ref parked.Bytes, null);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // The bytes are kept: a restore uses them; the disk budget still counts them, so they are bounded.
                Log.SpillFailed(_logger, path, ex);
            }
            finally
            {
                Interlocked.Decrement(ref _pendingWrites);
            }
        });
        _writes.Add(parked.Writing);
    }

    private const int NonceSize = 12;
    private const int TagSize = 16;

    /// <summary>Nonce, tag, then the sealed state; the file name is the associated data, so files cannot be swapped.</summary>
    private void WriteEncrypted(string path, byte[] state)
    {
        var sealedFile = GC.AllocateUninitializedArray<byte>(NonceSize + TagSize + state.Length);
        var nonce = sealedFile.AsSpan(0, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using (var aes = new AesGcm(_fileKey, TagSize))
        {
            aes.Encrypt(nonce, state, sealedFile.AsSpan(NonceSize + TagSize), sealedFile.AsSpan(NonceSize, TagSize), System.Text.Encoding.UTF8.GetBytes(Path.GetFileName(path)));
        }

        var create = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            create.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using var file = new FileStream(path, create);
        file.Write(sealedFile);
    }

    /// <summary>The bytes are dropped from memory only once the file is written, so the file is complete here.</summary>
    private byte[] ReadFile(Parked parked)
    {
        var sealedFile = File.ReadAllBytes(parked.File!);
        if (sealedFile.Length < NonceSize + TagSize)
        {
            throw new IOException($"The parked cache {parked.File} is truncated.");
        }

        var state = GC.AllocateUninitializedArray<byte>(sealedFile.Length - NonceSize - TagSize);
        try
        {
            using var aes = new AesGcm(_fileKey, TagSize);
            aes.Decrypt(sealedFile.AsSpan(0, NonceSize), sealedFile.AsSpan(NonceSize + TagSize), sealedFile.AsSpan(NonceSize, TagSize), state, System.Text.Encoding.UTF8.GetBytes(Path.GetFileName(parked.File!)));
        }
        catch (AuthenticationTagMismatchException ex)
        {
            throw new IOException($"The parked cache {parked.File} was changed on disk.", ex);
        }

        return state;
    }

    /// <summary>Takes <paramref name="parked"/> off the budgets and deletes its file once written.</summary>
    private void Release(Parked parked)
    {
        if (parked.File is { } path)
        {
            _onDisk--;
            _diskBytes -= parked.Size;
            if (parked.Writing is { IsCompleted: false } writing)
            {
                writing.ContinueWith(_ => TryDeleteFile(path), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
            }
            else
            {
                TryDeleteFile(path);
            }
        }
        else
        {
            _inMemory--;
            _memoryBytes -= parked.Size;
        }

        Volatile.Write(ref parked.Bytes, null);
    }

    private static unsafe byte[] SaveState(SafeLLamaContextHandle context, LLamaSeqId sequence)
    {
        var size = context.GetStateSize(sequence);
        var bytes = GC.AllocateUninitializedArray<byte>(checked((int)size));
        fixed (byte* destination = bytes)
        {
            var written = context.GetState(destination, size, sequence);
            Debug.Assert(written == size, "llama.cpp wrote a different size than it announced.");
        }

        return bytes;
    }

    private static unsafe bool LoadState(SafeLLamaContextHandle context, LLamaSeqId sequence, byte[] bytes)
    {
        fixed (byte* source = bytes)
        {
            return context.SetState(source, (nuint)bytes.Length, sequence) != 0;
        }
    }

    /// <summary>Removes parking directories of processes that no longer run (a crash leaves them behind).</summary>
    private void RemoveAbandoned(string root)
    {
        if (!Directory.Exists(root))
        {
            return;
        }

        foreach (var directory in Directory.EnumerateDirectories(root, DirectoryPrefix + "*"))
        {
            var name = Path.GetFileName(directory).AsSpan(DirectoryPrefix.Length);
            var dash = name.IndexOf('-');
            if (dash > 0 && int.TryParse(name[..dash], out var pid) && !IsRunning(pid))
            {
                TryDeleteDirectory(directory);
                Log.RemovedAbandoned(_logger, directory);
            }
        }
    }

    private static bool IsRunning(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    private static void TryDeleteFile(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // Removed with the directory at dispose or at the next start.
        }
    }

    private static void TryDeleteDirectory(string path)
    {
        try
        {
            Directory.Delete(path, recursive: true);
        }
        catch (IOException)
        {
            // Tried again at the next start.
        }
        catch (UnauthorizedAccessException)
        {
            // Tried again at the next start.
        }
    }

    private sealed class Parked(List<LLama.Native.LLamaToken> tokens, long lastUsed)
    {
        public List<LLama.Native.LLamaToken> Tokens { get; } = tokens;

        public long LastUsed { get; } = lastUsed;

        /// <summary>The state; null once it is on disk.</summary>
        public byte[]? Bytes;

        public int Size { get; init; }

        public string? File { get; set; }

        public Task? Writing { get; set; }
    }

    private static partial class Log
    {
        [LoggerMessage(WeSeekEventId.LlamaParkSpillFailed, LogLevel.Warning, "Could not write a parked KV cache to {Path}; it stays in memory")]
        public static partial void SpillFailed(ILogger logger, string path, Exception exception);

        [LoggerMessage(WeSeekEventId.LlamaParkRestoreFailed, LogLevel.Warning, "Could not read a parked KV cache back; the conversation's next turn prefills in full")]
        public static partial void RestoreFailed(ILogger logger, Exception exception);

        [LoggerMessage(WeSeekEventId.LlamaParkStateRejected, LogLevel.Warning, "llama.cpp did not load a parked KV cache of {Bytes} bytes (the cache may be full); the turn prefills in full")]
        public static partial void StateRejected(ILogger logger, int bytes);

        [LoggerMessage(WeSeekEventId.LlamaParkAbandonedRemoved, LogLevel.Information, "Removed parked KV caches left by a stopped process in {Directory}")]
        public static partial void RemovedAbandoned(ILogger logger, string directory);
    }
}

/// <summary>Parking totals since start and where the parked caches are now.</summary>
public readonly record struct ParkingSnapshot(long Parked, long Restored, int InMemory, int OnDisk, long MemoryBytes, long DiskBytes, int PendingWrites);
