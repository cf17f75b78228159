using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WeSeek.Logging;

namespace WeSeek.Inference.Remote;

/// <summary>
/// At start-up, asks the model server for its models (<c>GET {BaseUrl}/models</c>, which every
/// OpenAI-compatible server answers) and says in the log whether it answers and what to do if not. It never
/// blocks start-up: messages are stored either way and wait for the server.
/// </summary>
internal sealed partial class RemoteEngineProbe : IHostedService, IDisposable
{
    private readonly IHttpClientFactory _http;
    private readonly RemoteEngineOptions _options;
    private readonly ILogger<RemoteEngineProbe> _logger;
    private readonly CancellationTokenSource _stopping = new();
    private Task _probe = Task.CompletedTask;

    public RemoteEngineProbe(IHttpClientFactory http, IOptions<RemoteEngineOptions> options, ILogger<RemoteEngineProbe> logger)
    {
        _http = http;
        _options = options.Value;
        _logger = logger;
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _probe = ProbeAsync(_stopping.Token);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        await _probe;
    }

    public void Dispose() => _stopping.Dispose();

    private async Task ProbeAsync(CancellationToken cancellationToken)
    {
        var url = new Uri(_options.BaseUrl.ToString().TrimEnd('/') + "/models");
        try
        {
            using var client = _http.CreateClient(RemoteEngineFactory.HttpClientName);
            client.Timeout = TimeSpan.FromSeconds(5);
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            if (!string.IsNullOrEmpty(_options.ApiKey))
            {
                request.Headers.Authorization = new("Bearer", _options.ApiKey);
            }

            using var response = await client.SendAsync(request, cancellationToken);
            if (response.IsSuccessStatusCode)
            {
                Log.Answers(_logger, _options.BaseUrl, _options.ModelId);
            }
            else
            {
                Log.Refuses(_logger, _options.BaseUrl, (int)response.StatusCode);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            Log.Unreachable(_logger, _options.BaseUrl, ex.Message);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(WeSeekEventId.RemoteEngineConfigured, LogLevel.Information, "Model server at {BaseUrl} answers; using model {ModelId}")]
        public static partial void Answers(ILogger logger, Uri baseUrl, string modelId);

        [LoggerMessage(WeSeekEventId.RemoteEngineUnreachable, LogLevel.Warning,
            "No model server answers at {BaseUrl} ({Reason}). Start one there (llama-server, vLLM, SGLang, Ollama) or point Model:Remote:BaseUrl " +
            "(environment variable WESEEK__Model__Remote__BaseUrl) at yours. Messages are kept and retried meanwhile.")]
        public static partial void Unreachable(ILogger logger, Uri baseUrl, string reason);

        [LoggerMessage(WeSeekEventId.RemoteEngineRefused, LogLevel.Warning,
            "The model server at {BaseUrl} answered {Status} to GET /models: check Model:Remote:BaseUrl (it should end in /v1) and Model:Remote:ApiKey")]
        public static partial void Refuses(ILogger logger, Uri baseUrl, int status);
    }
}
