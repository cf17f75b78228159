using System.Diagnostics;
using System.Reflection;
using System.Threading.Channels;
using LLama.Native;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using WeSeek.Inference.Llama.Models;
using WeSeek.Logging;

namespace WeSeek.Inference.Llama.Engine;

/// <summary>
/// LoRA adapters on the loaded model, changed while it serves. A change is loaded beside the running engine, then
/// handed to the scheduler, which applies it at a step boundary (after a decode, before anything is sampled from
/// its logits, with nothing in the batch): every KV cache computed under the old adapters is invalid under the
/// new ones, so generating requests give up their sequences and go first in line to be prefilled again from what
/// they had (their output goes on where it stopped, with the same sampler), idle conversations' kept caches are
/// dropped, and parked ones are forgotten so that none is ever restored under another adapter. Queued requests
/// stay queued. Nothing is lost; the price is one prefill per conversation that was in the engine.
/// </summary>
internal sealed partial class LlamaEngine
{
    /// <summary>LLamaSharp 0.30.0 does not check llama_adapter_lora_init's result: a file llama.cpp refuses yields
    /// an adapter whose native pointer is null, which would crash the process when applied. Read to refuse it.</summary>
    private static readonly PropertyInfo? AdapterPointer = typeof(LoraAdapter).GetProperty("Pointer", BindingFlags.Instance | BindingFlags.NonPublic);

    private readonly Channel<AdapterSwap> _adapterSwaps = Channel.CreateUnbounded<AdapterSwap>(new UnboundedChannelOptions { SingleReader = true });
    private readonly SemaphoreSlim _adapterGate = new(1, 1); // One change at a time; never disposed (no handle until a timed wait).
    private IReadOnlyList<LoadedAdapter> _adapters = [];
    private GgufInfo? _baseModel;
    private long _adapterRequeues;
    private Task? _adapterWake;

    /// <summary>The adapters applied now, in order.</summary>
    public IReadOnlyList<LoadedAdapter> Adapters => Volatile.Read(ref _adapters);

    /// <summary>
    /// Replaces the applied adapters with <paramref name="adapters"/> (empty: the base model alone) and returns once
    /// the scheduler has applied them. Every file is checked against the base model first; if one is wrong, nothing
    /// changes and the engine goes on serving. Thread-safe; changes are applied one at a time, in call order.
    /// </summary>
    /// <exception cref="LlamaEngineException">An adapter is not a LoRA GGUF, is for another base model, or llama.cpp
    /// could not load it; the message is one line naming the file.</exception>
    public async Task<AdapterSwapResult> SetAdaptersAsync(IReadOnlyList<LoraAdapterOptions> adapters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(adapters);
        var requested = Stopwatch.GetTimestamp();
        await _adapterGate.WaitAsync(cancellationToken);
        try
        {
            var files = adapters.Select(Check).ToList();
            var current = Adapters;
            var next = new List<LoadedAdapter>(files.Count);
            var loadedNow = new List<LoraAdapter>();
            try
            {
                foreach (var (file, options) in files.Zip(adapters))
                {
                    // One already loaded from the same file is reused; a file rewritten since (a retrained adapter
                    // under the same name) is loaded again.
                    var written = File.GetLastWriteTimeUtc(file.Path);
                    bool Same(LoadedAdapter a) => a.File.Path == file.Path && a.File.FileSize == file.FileSize && a.Written == written;
                    var native = current.FirstOrDefault(Same)?.Native ?? next.FirstOrDefault(Same)?.Native;
                    if (native is null)
                    {
                        // Loaded beside the running engine (llama.cpp only reads the model's tensors for it): the
                        // scheduler pauses for the switch, not for the file.
                        native = await Task.Run(() => Load(file), cancellationToken);
                        loadedNow.Add(native);
                    }

                    next.Add(new LoadedAdapter(file, options.Scale, native, written));
                }
            }
            catch
            {
                loadedNow.ForEach(a => a.Unload());
                throw;
            }

            var unload = current.Select(c => c.Native).Where(old => !next.Exists(n => ReferenceEquals(n.Native, old))).Distinct().ToList();
            var swap = new AdapterSwap(next, unload, requested);
            if (!_adapterSwaps.Writer.TryWrite(swap) || await Task.WhenAny(swap.Done.Task, _scheduler) != swap.Done.Task)
            {
                loadedNow.ForEach(a => a.Unload());
                throw new LlamaEngineException("The embedded engine stopped before the adapters could be changed; restart WeSeek.");
            }

            return await swap.Done.Task;
        }
        finally
        {
            _adapterGate.Release();
        }
    }

    /// <summary>The adapter file, checked on its own and against the loaded model.</summary>
    private LoraAdapterFile Check(LoraAdapterOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.Path) || !File.Exists(options.Path))
        {
            throw new LlamaEngineException($"No adapter file at '{options.Path}'.");
        }

        if (!float.IsFinite(options.Scale))
        {
            throw new LlamaEngineException($"The scale of {Path.GetFileName(options.Path)} must be a number (1 applies the adapter as trained).");
        }

        LoraAdapterFile file;
        try
        {
            file = LoraAdapterFile.Read(options.Path);
        }
        catch (Exception ex) when (ex is InvalidDataException or IOException or UnauthorizedAccessException)
        {
            throw new LlamaEngineException(ex is InvalidDataException ? ex.Message : $"Could not read the adapter {Path.GetFileName(options.Path)}: {ex.Message}", ex);
        }

        _baseModel ??= GgufReader.Read(ModelPath);
        if (file.ProblemWith(_baseModel, Path.GetFileName(ModelPath)) is { } problem)
        {
            throw new LlamaEngineException(problem);
        }

        return file;
    }

    private LoraAdapter Load(LoraAdapterFile file)
    {
        LoraAdapter native;
        try
        {
            native = _weights.NativeHandle.LoadLoraFromFile(file.Path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            throw new LlamaEngineException($"Could not read the adapter {Path.GetFileName(file.Path)}: {ex.Message}", ex);
        }

        if (AdapterPointer?.GetValue(native) is IntPtr pointer && pointer == IntPtr.Zero)
        {
            throw new LlamaEngineException($"llama.cpp refused the adapter {Path.GetFileName(file.Path)} (its log, category LLama.Native, says why); the engine goes on without it.");
        }

        return native;
    }

    /// <summary>
    /// Applies a pending adapter change if there is one and the batch is empty (a step boundary). Called by the
    /// scheduler only. True when it applied one: the generating requests are then back in line.
    /// </summary>
    private bool ApplyPendingAdapterSwap()
    {
        if (_executor.BatchedTokenCount > 0 || !_adapterSwaps.Reader.TryRead(out var swap))
        {
            return false;
        }

        var started = Stopwatch.GetTimestamp();
        int requeued = 0, dropped;
        lock (_active)
        {
            // Oldest first at the front of the line, ahead of anything deferred.
            var position = 0;
            foreach (var request in _active.OrderBy(r => r.AdmittedAt).ToList())
            {
                _active.Remove(request);
                if (request.Cancelled && !request.Finished)
                {
                    request.Fail(new OperationCanceledException(request.CancellationToken));
                    Release(request);
                }
                else if (request.Finished || request.PrefillOnly)
                {
                    // Done, or an answer being decoded ahead into a cache that is invalid now anyway.
                    if (!request.Finished)
                    {
                        request.Finish(ChatFinishReason.Stop);
                    }

                    Release(request);
                }
                else
                {
                    request.Conversation!.Dispose();
                    request.Preempted($"{PreemptedPrefix}adapters/{++_adapterRequeues}"); // Nothing is parked under it: it prefills again.
                    _deferred.Insert(position++, request);
                    requeued++;
                }
            }

            dropped = _kept.Count;
            foreach (var kept in _kept.Values)
            {
                kept.Conversation.Dispose();
            }

            _kept.Clear();
            _keptCells = 0;
            dropped += _parked.ForgetAll();
            PublishCells();
        }

        Span<(LoraAdapter, float)> applied = [.. swap.Adapters.Select(a => (a.Native, a.Scale))];
        _executor.Context.NativeHandle.SetLoraAdapters(applied);
        foreach (var old in swap.Unload)
        {
            old.Unload();
        }

        Volatile.Write(ref _adapters, swap.Adapters);
        var pause = Stopwatch.GetElapsedTime(started);
        var result = new AdapterSwapResult(requeued, dropped, pause, Stopwatch.GetElapsedTime(swap.Requested));
        Log.AdaptersChanged(_logger, swap.Adapters.Count == 0 ? "none (the base model)" : string.Join(", ", swap.Adapters.Select(a => $"{Path.GetFileName(a.File.Path)}×{a.Scale}")), requeued, dropped, pause.TotalMilliseconds);
        swap.Done.TrySetResult(result);
        return true;
    }

    /// <summary>The scheduler's wait when idle also wakes for an adapter change. One wait at a time, reused across
    /// idle periods: a new one each time would pile up on the channel until a change came.</summary>
    private Task AdapterSwapRequested(CancellationToken stopping)
    {
        if (_adapterWake is not { IsCompleted: false })
        {
            _adapterWake = _adapterSwaps.Reader.WaitToReadAsync(stopping).AsTask();
        }

        return _adapterWake;
    }

    private sealed record AdapterSwap(IReadOnlyList<LoadedAdapter> Adapters, IReadOnlyList<LoraAdapter> Unload, long Requested)
    {
        public TaskCompletionSource<AdapterSwapResult> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private static partial class Log
    {
        [LoggerMessage(WeSeekEventId.LlamaAdaptersChanged, LogLevel.Information, "LoRA adapters now {Adapters}: {Requeued} generating requests re-prefill, {Dropped} idle KV caches dropped; the scheduler paused {PauseMs:F1} ms")]
        public static partial void AdaptersChanged(ILogger logger, string adapters, int requeued, int dropped, double pauseMs);
    }
}

/// <summary>An adapter applied to the model, with its scale (1: as trained) and when its file was written.</summary>
internal sealed record LoadedAdapter(LoraAdapterFile File, float Scale, LoraAdapter Native, DateTime Written);

/// <summary>What an adapter change cost.</summary>
/// <param name="Requeued">Generating requests that went back in line to prefill again under the new adapters.</param>
/// <param name="CachesDropped">Kept and parked KV caches dropped (each conversation prefills in full next time).</param>
/// <param name="Pause">How long the scheduler stood still to apply it (between two decode steps).</param>
/// <param name="Waited">From the request to the change being applied (loading, then the next step boundary).</param>
public sealed record AdapterSwapResult(int Requeued, int CachesDropped, TimeSpan Pause, TimeSpan Waited);
