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
internal sealed partial class LlamaEngineHost : IHostedService, IAsyncDisposable
{
    private readonly LlamaEngineOptions _options;
    private readonly LlamaModelResolver _resolver;
    private readonly ILogger<LlamaEngineHost> _logger;
    private readonly ILogger _nativeLogger;
    private readonly SemaphoreSlim _gate = new(1, 1); // Never disposed: it holds no unmanaged resource until waited on with a timeout.
    private LlamaEngine? _engine;

    public LlamaEngineHost(IOptions<LlamaEngineOptions> options, LlamaModelResolver resolver, ILogger<LlamaEngineHost> logger, ILoggerFactory? loggers = null)
    {
        _options = options.Value;
        _resolver = resolver;
        _logger = logger;
        // llama.cpp's own log under its own category, so operators can quiet it ("LLama": "Warning").
        _nativeLogger = loggers?.CreateLogger("LLama.Native") ?? logger;
    }

    public string? ModelId => _engine?.ModelId;

    /// <summary>The engine once loaded; null before.</summary>
    public LlamaEngine? LoadedEngine => _engine;

    /// <summary>A host for one model file outside dependency injection (benchmarks, tests, tools).</summary>
    public static LlamaEngineHost ForModel(LlamaEngineOptions options, string? dataDirectory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var resolver = new LlamaModelResolver(
            Options.Create(options),
            Options.Create(new Storage.StorageOptions { DataDirectory = dataDirectory ?? Path.GetTempPath() }),
            Microsoft.Extensions.Logging.Abstractions.NullLogger<LlamaModelResolver>.Instance);
        return new LlamaEngineHost(Options.Create(options), resolver, Microsoft.Extensions.Logging.Abstractions.NullLogger<LlamaEngineHost>.Instance);
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
                var engine = await LlamaEngine.LoadAsync(path, _options, _resolver.ParkingDirectory, _logger, _nativeLogger, cancellationToken);
                try
                {
                    await ApplyAdaptersAsync(engine, atStart: true, cancellationToken);
                }
                catch
                {
                    await engine.DisposeAsync();
                    throw;
                }

                _engine = engine;
                Log.Loaded(_logger, path, System.Diagnostics.Stopwatch.GetElapsedTime(started), _engine.PlanDescription);
            }

            return _engine;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Applies <c>Model:Llama:Adapters</c> and then those in the data directory's adapter manifest to the running
    /// engine (<see cref="AdapterWatcher"/> calls it when the manifest changes). An adapter that cannot be applied
    /// is refused with a logged line naming it, and the engine keeps serving with what it had; at start, a configured
    /// adapter that cannot be applied stops start-up instead, as any bad setting does. Null before the engine loads.
    /// </summary>
    public async Task<AdapterSwapResult?> ReloadAdaptersAsync(CancellationToken cancellationToken) =>
        _engine is { } engine ? await ApplyAdaptersAsync(engine, atStart: false, cancellationToken) : null;

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
        if (Interlocked.Exchange(ref _engine, null) is { } engine)
        {
            await engine.DisposeAsync();
        }
    }

    private static partial class Log
    {
        [LoggerMessage(WeSeekEventId.LlamaModelLoaded, LogLevel.Information, "Loaded {Model} in {Elapsed}. {Plan}")]
        public static partial void Loaded(ILogger logger, string model, TimeSpan elapsed, string plan);

        [LoggerMessage(WeSeekEventId.LlamaAdapterRefused, LogLevel.Error, "LoRA adapter refused, the engine goes on with the adapters it had: {Reason}")]
        public static partial void AdapterRefused(ILogger logger, string reason);
    }
}
