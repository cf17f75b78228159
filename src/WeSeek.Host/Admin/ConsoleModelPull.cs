using Microsoft.Extensions.Options;
using WeSeek.Inference.Llama.Models;
using WeSeek.Storage;

namespace WeSeek.Host.Admin;

/// <summary>Where a pull started from the console stands.</summary>
/// <param name="Name">The model asked for, as the catalog names it.</param>
/// <param name="State">idle, pulling, done or failed.</param>
/// <param name="File">The file being downloaded.</param>
/// <param name="Bytes">Bytes downloaded so far.</param>
/// <param name="Total">The file's size, when the server says.</param>
/// <param name="Path">Where the model is, once done.</param>
/// <param name="Error">Why it failed.</param>
internal sealed record ModelPullStatus(string? Name, string State, string? File, long Bytes, long? Total, string? Path, string? Error);

/// <summary>
/// One model pull at a time from the console's 模型 Model page, in the background (a large model takes an hour),
/// into the models directory, with the progress the page polls. The same puller as <c>weseek model pull</c>:
/// resumable, verified where the catalog has sizes and checksums. It ends with the host; a pull started again
/// resumes. Thread-safe.
/// </summary>
internal sealed class ConsoleModelPull
{
    private readonly IHttpClientFactory _http;
    private readonly IConfiguration _configuration;
    private readonly StorageOptions _storage;
    private readonly IHostApplicationLifetime _lifetime;
    private readonly Lock _lock = new();
    private ModelPullStatus _status = new(null, "idle", null, 0, null, null, null);

    public ConsoleModelPull(IHttpClientFactory http, IConfiguration configuration, IOptions<StorageOptions> storage, IHostApplicationLifetime lifetime)
    {
        _http = http;
        _configuration = configuration;
        _storage = storage.Value;
        _lifetime = lifetime;
    }

    public ModelPullStatus Status
    {
        get
        {
            lock (_lock)
            {
                return _status;
            }
        }
    }

    /// <summary>The models directory, as the engine and <c>weseek model</c> use it.</summary>
    public string Directory => _configuration["Models:Directory"] is { Length: > 0 } configured ? configured : System.IO.Path.Combine(_storage.DataDirectory, "models");

    /// <summary>Starts pulling <paramref name="name"/>; returns why not (another pull runs, an unknown name), or null.</summary>
    public string? Start(string name)
    {
        CatalogEntry entry;
        try
        {
            entry = ModelCatalog.Load(Directory).Resolve(name.Trim());
        }
        catch (ArgumentException ex)
        {
            return ex.Message;
        }

        lock (_lock)
        {
            if (_status.State == "pulling")
            {
                return $"{_status.Name} is being pulled; wait for it to finish.";
            }

            _status = new ModelPullStatus(entry.Name, "pulling", null, 0, null, null, null);
        }

        _ = Task.Run(() => PullAsync(entry), CancellationToken.None);
        return null;
    }

    private async Task PullAsync(CatalogEntry entry)
    {
        try
        {
            var endpoint = Uri.TryCreate(_configuration["Models:Endpoint"], UriKind.Absolute, out var configured) ? configured : new ModelsOptions().Endpoint;
            using var client = _http.CreateClient("WeSeek.Models");
            client.Timeout = Timeout.InfiniteTimeSpan;
            var puller = new ModelPuller(client, endpoint, _configuration["Models:Source"] ?? new ModelsOptions().Source);
            var path = await puller.PullAsync(entry, Directory, new Progress<PullProgress>(p =>
            {
                lock (_lock)
                {
                    _status = _status with { File = p.File, Bytes = p.Bytes, Total = p.Total };
                }
            }), _lifetime.ApplicationStopping);
            lock (_lock)
            {
                _status = _status with { State = "done", Path = path };
            }
        }
        catch (Exception ex) when (ex is ModelPullException or HttpRequestException or IOException or OperationCanceledException)
        {
            lock (_lock)
            {
                _status = _status with { State = "failed", Error = ex.Message };
            }
        }
    }
}
