using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WeSeek.Logging;

namespace WeSeek.Inference.Remote;

/// <summary>
/// Asks each model server for its models (<c>GET {BaseUrl}/models</c>, which every OpenAI-compatible server
/// answers): at start-up it says in the log whether each answers and what to do if not; with replicas it keeps
/// asking every <see cref="RemoteEngineOptions.HealthInterval"/> and tells the <see cref="ReplicaRouter"/>
/// which are up. It never blocks start-up: messages are stored either way and wait for a server.
/// </summary>
internal sealed partial class RemoteEngineProbe : IHostedService, IDisposable
{
    private readonly IHttpClientFactory _http;
    private readonly RemoteEngineOptions _options;
    private readonly ReplicaRouter _router;
    private readonly TimeProvider _time;
    private readonly ILogger<RemoteEngineProbe> _logger;
    private readonly CancellationTokenSource _stopping = new();
    private Task _probe = Task.CompletedTask;

    public RemoteEngineProbe(IHttpClientFactory http, IOptions<RemoteEngineOptions> options, ReplicaRouter router, TimeProvider time, ILogger<RemoteEngineProbe> logger)
    {
        _http = http;
        _options = options.Value;
        _router = router;
        _time = time;
        _logger = logger;
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _probe = RunAsync(_stopping.Token);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        await _probe;
    }

    public void Dispose() => _stopping.Dispose();

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        var endpoints = _router.Endpoints;
        var first = true;
        try
        {
            do
            {
                await Task.WhenAll(endpoints.Select((url, replica) => ProbeAsync(replica, url, first, cancellationToken)));
                first = false;
            }
            while (endpoints.Count > 1 && await Delay(cancellationToken));
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private async Task<bool> Delay(CancellationToken cancellationToken)
    {
        await Task.Delay(_options.HealthInterval, _time, cancellationToken);
        return true;
    }

    private async Task ProbeAsync(int replica, Uri baseUrl, bool first, CancellationToken cancellationToken)
    {
        var url = new Uri(baseUrl.ToString().TrimEnd('/') + "/models");
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
                _router.MarkUp(replica);
                if (first)
                {
                    Log.Answers(_logger, baseUrl, _options.ModelId);
                }
            }
            else
            {
                _router.MarkDown(replica, $"GET /models answered {(int)response.StatusCode}");
                if (first)
                {
                    Log.Refuses(_logger, baseUrl, (int)response.StatusCode);
                }
            }
        }
        catch (Exception ex) when ((ex is HttpRequestException or TaskCanceledException) && !cancellationToken.IsCancellationRequested)
        {
            _router.MarkDown(replica, ex.Message);
            if (first)
            {
                Log.Unreachable(_logger, baseUrl, ex.Message);
            }
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
