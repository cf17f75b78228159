using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WeSeek.Logging;

namespace WeSeek.Inference.Llama.Engine;

/// <summary>
/// Owns the loaded engine: loads it when the host starts (so the first message does not wait for it, and
/// a bad model stops start-up with a clear message), hands it to the chat client, and disposes it on
/// shutdown. The model file comes from <see cref="LlamaModelResolver"/>.
/// </summary>
/// <remarks>
/// <see cref="SwitchModelAsync"/> changes the model without a restart, as adapters change: the new file is
/// loaded beside the old one while the old one serves; a file that does not load leaves the old engine as it
/// was. Once the new one is current, every turn that starts runs on it, including messages that were waiting
/// in the inbox; turns that already hold the old engine (<see cref="AcquireAsync"/>) finish on it, and the old
/// engine is disposed when the last of them lets go. Both models are in memory until then.
/// </remarks>
internal sealed partial class LlamaEngineHost : IHostedService, IAsyncDisposable
{
    private readonly LlamaEngineOptions _options;
    private readonly LlamaModelResolver _resolver;
    private readonly LlamaEngineMetrics _metrics;
    private LlamaEngineMetrics? _ownedMetrics; // Outside dependency injection (ForModel): disposed with the host.
    private readonly ILogger<LlamaEngineHost> _logger;
    private readonly ILogger _nativeLogger;
    private readonly SemaphoreSlim _gate = new(1, 1); // Never disposed: it holds no unmanaged resource until waited on with a timeout.
    private readonly Lock _slots = new();
    private readonly List<(Slot Slot, Task Retired)> _retiring = [];
    private LlamaEngine? _engine;
    private Slot? _current;
    private string? _startedWith;

    public LlamaEngineHost(IOptions<LlamaEngineOptions> options, LlamaModelResolver resolver, LlamaEngineMetrics metrics, ILogger<LlamaEngineHost> logger, ILoggerFactory? loggers = null)
    {
        _options = options.Value;
        _metrics = metrics;
        _resolver = resolver;
        _logger = logger;
        // llama.cpp's own log under its own category, so operators can quiet it ("LLama": "Warning").
        _nativeLogger = loggers?.CreateLogger("LLama.Native") ?? logger;
    }

    public string? ModelId => _engine?.ModelId;

    /// <summary>The engine once loaded; null before. For a glance (the console); a caller that runs work on it
    /// takes <see cref="AcquireAsync"/>, so a model switch cannot dispose it underneath.</summary>
    public LlamaEngine? LoadedEngine => _engine;

    /// <summary>The file the engine loaded at start (configured or resolved); null before.</summary>
    public string? StartedWith => _startedWith;

    /// <summary>Old engines still finishing the turns they had when the model was switched.</summary>
    public int Retiring
    {
        get
        {
            lock (_slots)
            {
                return _retiring.Count(r => !r.Retired.IsCompleted);
            }
        }
    }

    /// <summary>A host for one model file outside dependency injection (benchmarks, tests, tools).</summary>
    public static LlamaEngineHost ForModel(LlamaEngineOptions options, string? dataDirectory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var resolver = new LlamaModelResolver(
            Options.Create(options),
            Options.Create(new Storage.StorageOptions { DataDirectory = dataDirectory ?? Path.GetTempPath() }),
            Microsoft.Extensions.Logging.Abstractions.NullLogger<LlamaModelResolver>.Instance);
        var metrics = new LlamaEngineMetrics(meters: null);
        return new LlamaEngineHost(Options.Create(options), resolver, metrics, Microsoft.Extensions.Logging.Abstractions.NullLogger<LlamaEngineHost>.Instance) { _ownedMetrics = metrics };
    }

    public Task StartAsync(CancellationToken cancellationToken) => GetEngineAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task<LlamaEngine> GetEngineAsync(CancellationToken cancellationToken)
    {
        if (_engine is { } loaded)
        {
            return loaded;
        }

        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_engine is null)
            {
                var path = await _resolver.ResolveAsync(cancellationToken);
                var started = System.Diagnostics.Stopwatch.GetTimestamp();
                var engine = await LlamaEngine.LoadAsync(path, _options, _resolver.ParkingDirectory, _metrics, _logger, _nativeLogger, cancellationToken);
                try
                {
                    await ApplyAdaptersAsync(engine, atStart: true, cancellationToken);
                }
                catch
                {
                    await engine.DisposeAsync();
                    throw;
                }

                lock (_slots)
                {
                    _current = new Slot(engine);
                    _engine = engine;
                }

                _startedWith = path;
                Log.Loaded(_logger, path, System.Diagnostics.Stopwatch.GetElapsedTime(started), engine.PlanDescription);
            }

            return _engine;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// The current engine, held until the lease is disposed: a model switch waits for every lease on the old
    /// engine before disposing it. Loads the engine first if it has not loaded.
    /// </summary>
    public async Task<EngineLease> AcquireAsync(CancellationToken cancellationToken)
    {
        await GetEngineAsync(cancellationToken);
        return TryAcquire() ?? throw new ObjectDisposedException(nameof(LlamaEngineHost));
    }

    /// <summary>The current engine, held as <see cref="AcquireAsync"/> holds it; null before it has loaded.</summary>
    public EngineLease? TryAcquire()
    {
        lock (_slots)
        {
            if (_current is not { } slot)
            {
                return null;
            }

            slot.Users++;
            return new EngineLease(this, slot);
        }
    }

    /// <summary>
    /// Loads <paramref name="modelPath"/> and makes it the engine every turn from now on runs on; the old engine
    /// finishes the turns it holds and is then disposed (<see cref="ModelSwitch.Retired"/>). The adapters apply
    /// to the new model as at start. Nothing changes when the file does not load or an adapter does not fit it:
    /// the exception says why and the old engine goes on serving. One switch at a time.
    /// </summary>
    /// <exception cref="LlamaEngineException">The file did not load; the old model still serves.</exception>
    public async Task<ModelSwitch> SwitchModelAsync(string modelPath, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(modelPath);
        await GetEngineAsync(cancellationToken);
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var old = _current ?? throw new ObjectDisposedException(nameof(LlamaEngineHost));
            if (!File.Exists(modelPath))
            {
                throw new LlamaEngineException($"There is no file {modelPath}. The model {old.Engine.ModelId} still serves.");
            }

            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            LlamaEngine engine;
            try
            {
                engine = await LlamaEngine.LoadAsync(modelPath, _options, _resolver.ParkingDirectory, _metrics, _logger, _nativeLogger, cancellationToken);
            }
            catch (LlamaEngineException ex)
            {
                Log.SwitchRefused(_logger, modelPath, ex.Message);
                throw new LlamaEngineException($"{ex.Message} The model {old.Engine.ModelId} still serves.", ex);
            }

            try
            {
                await ApplyAdaptersAsync(engine, atStart: true, cancellationToken);
            }
            catch (Exception ex)
            {
                await engine.DisposeAsync();
                Log.SwitchRefused(_logger, modelPath, ex.Message);
                throw ex is LlamaEngineException ? new LlamaEngineException($"{ex.Message} The model {old.Engine.ModelId} still serves.", ex) : ex;
            }

            Task retired;
            lock (_slots)
            {
                _current = new Slot(engine);
                _engine = engine;
                old.Retiring = true;
                retired = RetireAsync(old);
                _retiring.RemoveAll(r => r.Retired.IsCompleted);
                _retiring.Add((old, retired));
            }

            Log.Switched(_logger, old.Engine.ModelPath, modelPath, System.Diagnostics.Stopwatch.GetElapsedTime(started), engine.PlanDescription);
            return new ModelSwitch(old.Engine.ModelPath, modelPath, retired);
        }
        finally
        {
            _gate.Release();
        }
    }

    private static async Task RetireAsync(Slot slot)
    {
        // Resumes on the pool, not inside the lock of the lease that let go last.
        await slot.Drained.Task.ConfigureAwait(ConfigureAwaitOptions.ForceYielding);
        await slot.Engine.DisposeAsync();
    }

    private void Release(Slot slot)
    {
        lock (_slots)
        {
            if (--slot.Users == 0 && slot.Retiring)
            {
                slot.Drained.TrySetResult();
            }
        }
    }

    /// <summary>
    /// Applies <c>Model:Llama:Adapters</c> and then those in the data directory's adapter manifest to the running
    /// engine (<see cref="AdapterWatcher"/> calls it when the manifest changes). An adapter that cannot be applied
    /// is refused with a logged line naming it, and the engine keeps serving with what it had; at start, a configured
    /// adapter that cannot be applied stops start-up instead, as any bad setting does. Null before the engine loads.
    /// </summary>
    public async Task<AdapterSwapResult?> ReloadAdaptersAsync(CancellationToken cancellationToken)
    {
        // Under the gate: a model switch in progress applies the manifest to the new model itself.
        await _gate.WaitAsync(cancellationToken);
        try
        {
            return _engine is { } engine ? await ApplyAdaptersAsync(engine, atStart: false, cancellationToken) : null;
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<AdapterSwapResult?> ApplyAdaptersAsync(LlamaEngine engine, bool atStart, CancellationToken cancellationToken)
    {
        IReadOnlyList<LoraAdapterOptions> managed;
        try
        {
            managed = new Models.AdapterManifest(_resolver.DataDirectory).Read();
        }
        catch (Exception ex) when (ex is InvalidDataException or IOException or UnauthorizedAccessException)
        {
            Log.AdapterRefused(_logger, ex.Message);
            managed = atStart ? [] : [.. engine.Adapters.Skip(_options.Adapters.Count).Select(a => new LoraAdapterOptions { Path = a.File.Path, Scale = a.Scale })];
        }

        if (atStart && _options.Adapters.Count == 0 && managed.Count == 0)
        {
            return null;
        }

        if (managed.Count > 0)
        {
            try
            {
                return await engine.SetAdaptersAsync([.. _options.Adapters, .. managed], cancellationToken);
            }
            catch (LlamaEngineException ex)
            {
                // The data directory's list is the operator's latest word, but not at the price of the service.
                Log.AdapterRefused(_logger, ex.Message);
                if (!atStart)
                {
                    return null;
                }
            }
        }

        try
        {
            return await engine.SetAdaptersAsync(_options.Adapters, cancellationToken);
        }
        catch (LlamaEngineException ex) when (atStart)
        {
            throw new LlamaEngineException($"Model:Llama:Adapters (environment variables WESEEK__Model__Llama__Adapters__0__Path, …): {ex.Message}", ex);
        }
    }

    /// <summary>Idempotent: the container disposes this once as a singleton and once as a hosted service.</summary>
    public async ValueTask DisposeAsync()
    {
        (Slot Slot, Task Retired)[] retiring;
        lock (_slots)
        {
            _current = null;
            retiring = [.. _retiring];
            _retiring.Clear();
        }

        if (Interlocked.Exchange(ref _engine, null) is { } engine)
        {
            await engine.DisposeAsync();
        }

        // Shutting down: an old engine still finishing turns goes now, as the current one does.
        foreach (var (slot, retired) in retiring)
        {
            slot.Drained.TrySetResult();
            await retired;
        }

        _ownedMetrics?.Dispose();
    }

    /// <summary>An engine and the turns holding it.</summary>
    internal sealed class Slot(LlamaEngine engine)
    {
        public LlamaEngine Engine { get; } = engine;

        /// <summary>Leases not yet disposed; guarded by the host's lock.</summary>
        public int Users { get; set; }

        /// <summary>Replaced by a switch: disposed once <see cref="Users"/> reaches zero.</summary>
        public bool Retiring
        {
            get;
            set
            {
                field = value;
                if (value && Users == 0)
                {
                    Drained.TrySetResult();
                }
            }
        }

        public TaskCompletionSource Drained { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>One engine held for one piece of work; dispose it when the work is done (idempotent).</summary>
    public sealed class EngineLease : IDisposable
    {
        private LlamaEngineHost? _host;
        private readonly Slot _slot;

        internal EngineLease(LlamaEngineHost host, Slot slot)
        {
            _host = host;
            _slot = slot;
        }

        public LlamaEngine Engine => _slot.Engine;

        public void Dispose() => Interlocked.Exchange(ref _host, null)?.Release(_slot);
    }

    private static partial class Log
    {
        [LoggerMessage(WeSeekEventId.LlamaModelSwitched, LogLevel.Information, "Switched the model from {From} to {To} in {Elapsed}; turns already running finish on the old one. {Plan}")]
        public static partial void Switched(ILogger logger, string from, string to, TimeSpan elapsed, string plan);

        [LoggerMessage(WeSeekEventId.LlamaModelSwitchRefused, LogLevel.Error, "Model switch to {Path} refused, the loaded model goes on serving: {Reason}")]
        public static partial void SwitchRefused(ILogger logger, string path, string reason);

        [LoggerMessage(WeSeekEventId.LlamaModelLoaded, LogLevel.Information, "Loaded {Model} in {Elapsed}. {Plan}")]
        public static partial void Loaded(ILogger logger, string model, TimeSpan elapsed, string plan);

        [LoggerMessage(WeSeekEventId.LlamaAdapterRefused, LogLevel.Error, "LoRA adapter refused, the engine goes on with the adapters it had: {Reason}")]
        public static partial void AdapterRefused(ILogger logger, string reason);
    }
}

/// <summary>A model switch done: the file before, the file now, and when the old engine has finished its turns
/// and been disposed.</summary>
internal sealed record ModelSwitch(string From, string To, Task Retired);
