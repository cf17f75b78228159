using System.Net.Http.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WeSeek.Logging;

namespace WeSeek.Moderation;

/// <summary>
/// Asks the configured moderation service about a text (<see cref="ExternalModerationOptions"/>). A service
/// that fails or does not answer in time lets the text through or blocks it, as <c>FailOpen</c> says.
/// </summary>
internal sealed partial class ExternalModeration
{
    public const string HttpClientName = "WeSeek.Moderation";

    private readonly IHttpClientFactory _http;
    private readonly ExternalModerationOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<ExternalModeration> _logger;

    public ExternalModeration(IHttpClientFactory http, IOptions<ModerationOptions> options, TimeProvider time, ILogger<ExternalModeration> logger)
    {
        _http = http;
        _options = options.Value.External;
        _time = time;
        _logger = logger;
    }

    public bool Enabled => _options.Url is not null;

    /// <summary>True when the text must be blocked.</summary>
    public async Task<bool> BlocksAsync(string text, string direction, CancellationToken cancellationToken)
    {
        if (_options.Url is not { } url)
        {
            return false;
        }

        using var timeout = new CancellationTokenSource(_options.Timeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, cancellationToken);
        try
        {
            var client = _http.CreateClient(HttpClientName);
            using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = JsonContent.Create(new { text, direction }) };
            if (!string.IsNullOrEmpty(_options.ApiKey))
            {
                request.Headers.Authorization = new("Bearer", _options.ApiKey);
            }

            using var response = await client.SendAsync(request, linked.Token);
            response.EnsureSuccessStatusCode();
            var verdict = await response.Content.ReadFromJsonAsync<Verdict>(linked.Token);
            return verdict?.Block ?? !_options.FailOpen;
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested && ex is HttpRequestException or OperationCanceledException or System.Text.Json.JsonException)
        {
            Log.Failed(_logger, url.Host, _options.FailOpen ? "let through (FailOpen)" : "blocked (fail-closed)", ex.GetType().Name);
            return !_options.FailOpen;
        }
    }

    private sealed class Verdict
    {
        [JsonPropertyName("block")]
        public bool Block { get; set; }
    }

    private static partial class Log
    {
        [LoggerMessage(WeSeekEventId.ModerationServiceFailed, LogLevel.Warning, "The moderation service at {Host} did not answer ({Error}); the text was {Outcome}")]
        public static partial void Failed(ILogger logger, string host, string outcome, string error);
    }
}
