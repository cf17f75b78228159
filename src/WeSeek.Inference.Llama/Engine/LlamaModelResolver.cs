using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WeSeek.Inference.Llama.Models;
using WeSeek.Operations;
using WeSeek.Storage;
using WeSeek.Logging;

namespace WeSeek.Inference.Llama.Engine;

/// <summary>
/// Decides which GGUF file the engine runs: <c>Model:Llama:ModelPath</c> when set; else the newest model in
/// the data directory's <c>models/</c> folder; else, so that a first <c>weseek serve</c> works offline, a
/// small model synthesised on the spot, with a banner that its answers are random text.
/// </summary>
internal sealed partial class LlamaModelResolver
{
    /// <summary>Shown in the log and on the web page while the synthesised model is in use.</summary>
    public const string SyntheticBanner =
        "当前模型是合成的随机权重模型，回答只是随机文字。请用 `weseek model pull deepseek-r1:1.5b` 下载真实模型（或把 Model:Llama:ModelPath 指向 GGUF 文件）后重启。 " +
        "WeSeek is running on a synthesised model with random weights: answers are random text. " +
        "Get a real one with `weseek model pull deepseek-r1:1.5b` (or set Model:Llama:ModelPath to a GGUF file), then restart.";

    private readonly LlamaEngineOptions _options;
    private readonly StorageOptions _storage;
    private readonly ILogger<LlamaModelResolver> _logger;
    private readonly IOperatorNotices? _notices;
    private readonly ModelsOptions _models;
    private readonly IHttpClientFactory? _http;

    public LlamaModelResolver(
        IOptions<LlamaEngineOptions> options,
        IOptions<StorageOptions> storage,
        ILogger<LlamaModelResolver> logger,
        IOperatorNotices? notices = null,
        IOptions<ModelsOptions>? models = null,
        IHttpClientFactory? http = null)
    {
        _options = options.Value;
        _storage = storage.Value;
        _logger = logger;
        _notices = notices;
        _models = models?.Value ?? new ModelsOptions { AutoPull = false };
        _http = http;
    }

    /// <summary>True when the engine runs a model synthesised because no real one was found.</summary>
    public bool UsingSyntheticModel { get; private set; }

    public string ModelsDirectory => _models.Directory ?? Path.Combine(_storage.DataDirectory, "models");

    /// <summary>The data directory (<c>Storage:DataDirectory</c>): where <see cref="Models.AdapterManifest"/> lives.</summary>
    public string DataDirectory => _storage.DataDirectory;

    /// <summary>Where the engine parks idle conversations' KV caches on disk.</summary>
    public string ParkingDirectory => string.IsNullOrEmpty(_options.ParkingDirectory) ? Path.Combine(_storage.DataDirectory, "kv-parked") : _options.ParkingDirectory;

    /// <summary>The model file to load. A synthesised one, whether found, configured or made here, puts the
    /// random-weights banner in the log and on the web page.</summary>
    public async Task<string> ResolveAsync(CancellationToken cancellationToken)
    {
        var path = await FindAsync(cancellationToken);
        if (!UsingSyntheticModel && IsSynthetic(path))
        {
            UsingSyntheticModel = true;
            Log.Synthetic(_logger, SyntheticBanner);
            _notices?.AddForVisitors(SyntheticBanner); // Visitors see random text too: they are told why.
        }

        return path;
    }

    private static bool IsSynthetic(string path)
    {
        try
        {
            return GgufReader.Read(path).IsSynthetic;
        }
        catch (Exception ex) when (ex is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            // Not readable here: the engine's own load reports it.
            return false;
        }
    }

    private async Task<string> FindAsync(CancellationToken cancellationToken)
    {
        if (!string.IsNullOrEmpty(_options.ModelPath))
        {
            return _options.ModelPath;
        }

        if (ModelStore.NewestStored(ModelsDirectory) is { } stored)
        {
            return stored;
        }

        if (_models.AutoPull && _http is not null && await TryPullDefaultAsync(cancellationToken) is { } pulled)
        {
            return pulled;
        }

        var synthetic = Path.Combine(ModelsDirectory, "synthetic-tiny.gguf");
        if (!File.Exists(synthetic))
        {
            ModelSynthesizer.Write(synthetic + ".tmp", ModelShape.Tiny);
            File.Move(synthetic + ".tmp", synthetic, overwrite: true);
        }

        UsingSyntheticModel = true;
        Log.Synthetic(_logger, SyntheticBanner);
        _notices?.AddForVisitors(SyntheticBanner); // Visitors see random text too: they are told why.
        cancellationToken.ThrowIfCancellationRequested();
        return synthetic;
    }

    /// <summary>Pulls the default model, logging progress every 5%; null when that is not possible now.</summary>
    private async Task<string?> TryPullDefaultAsync(CancellationToken cancellationToken)
    {
        try
        {
            var entry = ModelCatalog.Load(ModelsDirectory).Resolve(_models.DefaultModel);
            using var client = _http!.CreateClient("WeSeek.Models");
            client.Timeout = Timeout.InfiniteTimeSpan;
            var reported = -1;
            Log.Pulling(_logger, entry.Name, _models.Endpoint);
            var path = await new ModelPuller(client, _models.Endpoint, _models.Source).PullAsync(entry, ModelsDirectory, new Progress<PullProgress>(p =>
            {
                if (p.Total is long total && total > 0 && (int)(p.Bytes * 20 / total) is var step && step > reported)
                {
                    reported = step;
                    Log.PullProgress(_logger, p.File, step * 5, p.Bytes >> 20, total >> 20);
                }
            }), cancellationToken);
            return path;
        }
        catch (ModelPullException ex)
        {
            Log.PullFailed(_logger, ex.Message);
            return null;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(WeSeekEventId.LlamaPulling, LogLevel.Information, "No model yet: pulling {Model} from {Endpoint} (Models:AutoPull; `weseek model pull` does the same with a progress bar)")]
        public static partial void Pulling(ILogger logger, string model, Uri endpoint);

        [LoggerMessage(WeSeekEventId.LlamaPullProgress, LogLevel.Information, "Pulling {File}: {Percent}% ({Done} of {Total} MiB)")]
        public static partial void PullProgress(ILogger logger, string file, int percent, long done, long total);

        [LoggerMessage(WeSeekEventId.LlamaPullFailed, LogLevel.Warning, "Could not pull the default model: {Reason} Starting on a synthesised model instead.")]
        public static partial void PullFailed(ILogger logger, string reason);

        [LoggerMessage(WeSeekEventId.LlamaSyntheticModel, LogLevel.Warning, "{Banner}")]
        public static partial void Synthetic(ILogger logger, string banner);
    }
}
