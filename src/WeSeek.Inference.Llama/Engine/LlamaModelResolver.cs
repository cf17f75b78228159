using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WeSeek.Inference.Llama.Models;
using WeSeek.Operations;
using WeSeek.Storage;

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
        "WeSeek is running on a synthesised model with random weights: answers are random text. " +
        "Get a real one with `weseek model pull deepseek-r1:1.5b` (or set Model:Llama:ModelPath to a GGUF file), then restart.";

    private readonly LlamaEngineOptions _options;
    private readonly StorageOptions _storage;
    private readonly ILogger<LlamaModelResolver> _logger;
    private readonly IOperatorNotices? _notices;

    public LlamaModelResolver(IOptions<LlamaEngineOptions> options, IOptions<StorageOptions> storage, ILogger<LlamaModelResolver> logger, IOperatorNotices? notices = null)
    {
        _options = options.Value;
        _storage = storage.Value;
        _logger = logger;
        _notices = notices;
    }

    /// <summary>True when the engine runs a model synthesised because no real one was found.</summary>
    public bool UsingSyntheticModel { get; private set; }

    public string ModelsDirectory => Path.Combine(_storage.DataDirectory, "models");

    public Task<string> ResolveAsync(CancellationToken cancellationToken)
    {
        if (!string.IsNullOrEmpty(_options.ModelPath))
        {
            return Task.FromResult(_options.ModelPath);
        }

        var models = Directory.Exists(ModelsDirectory)
            ? new DirectoryInfo(ModelsDirectory).GetFiles("*.gguf").Where(f => !f.Name.StartsWith("synthetic-", StringComparison.Ordinal)).OrderByDescending(f => f.LastWriteTimeUtc).ToList()
            : [];
        if (models.Count > 0)
        {
            return Task.FromResult(models[0].FullName);
        }

        var synthetic = Path.Combine(ModelsDirectory, "synthetic-tiny.gguf");
        if (!File.Exists(synthetic))
        {
            ModelSynthesizer.Write(synthetic + ".tmp", ModelShape.Tiny);
            File.Move(synthetic + ".tmp", synthetic, overwrite: true);
        }

        UsingSyntheticModel = true;
        Log.Synthetic(_logger, SyntheticBanner);
        _notices?.Add(SyntheticBanner);
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(synthetic);
    }

    private static partial class Log
    {
        [LoggerMessage(4111, LogLevel.Warning, "{Banner}")]
        public static partial void Synthetic(ILogger logger, string banner);
    }
}
