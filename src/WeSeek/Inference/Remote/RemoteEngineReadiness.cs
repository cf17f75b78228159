using Microsoft.Extensions.Options;
using WeSeek.Health;

namespace WeSeek.Inference.Remote;

/// <summary>The remote engine is ready when its server answers <c>GET {BaseUrl}/models</c> within 5 s (the
/// probe's limit: longer means a load balancer should look elsewhere).</summary>
internal sealed class RemoteEngineReadiness : IEngineReadiness
{
    private readonly IHttpClientFactory _http;
    private readonly RemoteEngineOptions _options;

    public RemoteEngineReadiness(IHttpClientFactory http, IOptions<RemoteEngineOptions> options)
    {
        _http = http;
        _options = options.Value;
    }

    public async Task<(bool Ready, string Description)> CheckAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var client = _http.CreateClient(RemoteEngineFactory.HttpClientName);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(5));
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(_options.BaseUrl.ToString().TrimEnd('/') + "/models"));
            if (!string.IsNullOrEmpty(_options.ApiKey))
            {
                request.Headers.Authorization = new("Bearer", _options.ApiKey);
            }

            using var response = await client.SendAsync(request, timeout.Token);
            return response.IsSuccessStatusCode
                ? (true, "The model server answers.")
                : (false, $"The model server answered {(int)response.StatusCode}.");
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException)
        {
            return (false, "The model server does not answer.");
        }
    }
}
