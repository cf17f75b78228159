using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WeSeek.Logging;

namespace WeSeek.Plugins.Http;

/// <summary>
/// Plugin <c>http</c>: when the turn's intent is an endpoint's (<c>Plugins:Http:Endpoints</c>), calls it with the
/// intent's slots in its URL or body and puts the kept response fields into the prompt, citing 「来源：&lt;endpoint&gt;」.
/// A call that fails, runs past its time limit or answers more than its size cap throws an
/// <see cref="HttpEndpointException"/> whose message names the endpoint and the reason only: never the URL (it holds
/// what the user wrote), a header (it may hold a secret) or the response.
/// </summary>
internal sealed partial class HttpPlugin : IWeSeekPlugin
{
    public const string HttpClientName = "WeSeek.Plugins.Http";

    private readonly IHttpClientFactory _http;
    private readonly HttpPluginOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<HttpPlugin> _logger;

    public HttpPlugin(IHttpClientFactory http, IOptions<HttpPluginOptions> options, TimeProvider time, ILogger<HttpPlugin> logger)
    {
        _http = http;
        _options = options.Value;
        _time = time;
        _logger = logger;
    }

    public string Name => "http";

    public string Description => "接口查询：按预设的 HTTP 接口查询外部系统（如天气、物流）";

    public async Task<PluginResult?> TryHandleAsync(PluginContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Intent is not { } intent)
        {
            return null;
        }

        var (name, endpoint) = _options.Endpoints.FirstOrDefault(e => string.Equals(e.Value.Intent ?? e.Key, intent.Name, StringComparison.OrdinalIgnoreCase));
        if (endpoint is null)
        {
            return null;
        }

        var missing = new List<string>();
        Func<string, string?> slot = s => intent.Slot(s) ?? intent.Slots.FirstOrDefault(p => string.Equals(p.Key, s, StringComparison.OrdinalIgnoreCase)).Value;
        var url = HttpTemplate.ExpandUrl(endpoint.Url, slot, missing);
        var post = string.Equals(endpoint.Method, "POST", StringComparison.OrdinalIgnoreCase);
        var body = post && endpoint.Body is not null ? HttpTemplate.ExpandBody(endpoint.Body, slot, _options.Secrets, missing) : null;
        if (url is null || missing.Count > 0)
        {
            Log.SlotsMissing(_logger, name, string.Join(", ", missing.Distinct(StringComparer.Ordinal)));
            return null;
        }

        var timeout = endpoint.Timeout ?? _options.Timeout;
        var cap = endpoint.MaxResponseBytes ?? _options.MaxResponseBytes;
        var (status, bytes) = await CallAsync(name, url, post, body, endpoint, timeout, cap, cancellationToken);
        Log.Called(_logger, name, status, bytes.Length);

        var text = Render(name, endpoint, intent, bytes, _options.MaxChars);
        return text is null ? null : PluginResult.Context([new PluginPassage(text, name)], [$"来源：{name}"]);
    }

    private async Task<(int Status, byte[] Body)> CallAsync(string name, Uri url, bool post, string? body, HttpEndpointOptions endpoint, TimeSpan timeout, int cap, CancellationToken cancellationToken)
    {
        using var timer = new CancellationTokenSource(timeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timer.Token, cancellationToken);
        using var request = new HttpRequestMessage(post ? HttpMethod.Post : HttpMethod.Get, url);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        foreach (var (header, template) in endpoint.Headers)
        {
            var value = HttpTemplate.ExpandHeader(template, _options.Secrets);
            if (!request.Headers.TryAddWithoutValidation(header, value))
            {
                throw new HttpEndpointException($"Endpoint {name}: header {header} cannot be sent on a request");
            }
        }

        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }

        try
        {
            var client = _http.CreateClient(HttpClientName);
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, linked.Token);
            var status = (int)response.StatusCode;
            if (!response.IsSuccessStatusCode)
            {
                throw new HttpEndpointException($"Endpoint {name} answered HTTP {status}");
            }

            if (response.Content.Headers.ContentLength > cap)
            {
                throw new HttpEndpointException($"Endpoint {name} answered {response.Content.Headers.ContentLength} bytes, more than its cap of {cap}");
            }

            await using var stream = await response.Content.ReadAsStreamAsync(linked.Token);
            return (status, await ReadCappedAsync(stream, cap, name, linked.Token));
        }
        catch (OperationCanceledException) when (timer.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new HttpEndpointException($"Endpoint {name} did not answer within {timeout}");
        }
        catch (HttpRequestException ex)
        {
            // Not wrapped: its message may name the URL, which holds what the user wrote.
            throw new HttpEndpointException($"Endpoint {name} could not be reached ({ex.HttpRequestError})");
        }
    }

    /// <summary>Reads at most <paramref name="cap"/> bytes; one more means the body is too large, and reading stops.</summary>
    private static async Task<byte[]> ReadCappedAsync(Stream stream, int cap, string name, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        while (true)
        {
            var read = await stream.ReadAsync(chunk.AsMemory(0, (int)Math.Min(chunk.Length, cap + 1 - buffer.Length)), cancellationToken);
            if (read == 0)
            {
                return buffer.ToArray();
            }

            buffer.Write(chunk, 0, read);
            if (buffer.Length > cap)
            {
                throw new HttpEndpointException($"Endpoint {name} answered more than its cap of {cap} bytes; reading stopped there");
            }
        }
    }

    /// <summary>The passage: a line naming the endpoint and its slots, then the kept fields (or the body).</summary>
    internal static string? Render(string name, HttpEndpointOptions endpoint, TurnIntent intent, byte[] body, int maxChars)
    {
        var slots = string.Join("，", intent.Slots.Select(s => $"{s.Key} = {s.Value}"));
        var text = new StringBuilder($"接口「{name}」");
        if (slots.Length > 0)
        {
            text.Append('（').Append(slots).Append('）');
        }

        text.Append("的结果：");
        if (endpoint.Keep.Count == 0)
        {
            text.Append('\n').Append(Encoding.UTF8.GetString(body).Trim());
        }
        else
        {
            JsonNode? root;
            try
            {
                root = JsonNode.Parse(body);
            }
            catch (JsonException)
            {
                throw new HttpEndpointException($"Endpoint {name} did not answer JSON, so its fields cannot be kept");
            }

            var found = 0;
            foreach (var path in endpoint.Keep)
            {
                if (JsonFieldPath.TryParse(path, out var field) && field.Find(root) is { } value)
                {
                    var shown = value is JsonValue v && v.TryGetValue<string>(out var s) ? s : value.ToJsonString();
                    text.Append('\n').Append(path).Append('：').Append(shown.Length <= 300 ? shown : shown[..300] + "…");
                    found++;
                }
            }

            if (found == 0)
            {
                return null;
            }
        }

        return text.Length <= maxChars ? text.ToString() : text.ToString(0, maxChars) + "…（已截断）";
    }

    private static partial class Log
    {
        [LoggerMessage(WeSeekEventId.HttpEndpointCalled, LogLevel.Debug, "HTTP plugin called endpoint {Endpoint}: HTTP {Status}, {Bytes} bytes")]
        public static partial void Called(ILogger logger, string endpoint, int status, int bytes);

        [LoggerMessage(WeSeekEventId.HttpSlotsMissing, LogLevel.Debug, "HTTP plugin did not call endpoint {Endpoint}: the turn lacks usable slots {Slots}")]
        public static partial void SlotsMissing(ILogger logger, string endpoint, string slots);
    }
}

/// <summary>An endpoint call failed. The message names the endpoint and the reason, never the URL, a header or the body.</summary>
public sealed class HttpEndpointException : Exception
{
    /// <summary>Creates the exception.</summary>
    public HttpEndpointException()
        : base("The endpoint call failed.")
    {
    }

    /// <summary>Creates the exception with the reason.</summary>
    public HttpEndpointException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with the reason and its cause.</summary>
    public HttpEndpointException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
