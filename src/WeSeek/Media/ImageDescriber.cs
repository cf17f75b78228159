using System.ClientModel;
using System.ClientModel.Primitives;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenAI;
using WeSeek.Logging;
using WeSeek.Operations;
using WeSeek.Security;

namespace WeSeek.Media;

/// <summary>
/// Describes images with the configured OpenAI-compatible vision endpoint (<see cref="VisionOptions"/>): the image
/// goes as a data-URL image part beside <see cref="VisionOptions.Prompt"/>, and the answer is cached by the image's
/// SHA-256 (<see cref="IImageDescriptionStore"/>). Every call to the endpoint is in the audit log (<c>vision.call</c>:
/// hashes of the image and the description, never either). A failure or timeout is logged and counted
/// (<c>weseek.vision.failures</c>) and gives null: the turn then answers from the text. Thread-safe.
/// </summary>
internal sealed partial class ImageDescriber
{
    public const string HttpClientName = "WeSeek.Vision";

    /// <summary>The service key of the vision endpoint's <see cref="IChatClient"/> (<see cref="AddVisionClient"/>).</summary>
    public const string ClientKey = "weseek.vision";

    private readonly VisionOptions _options;
    private readonly IImageDescriptionStore _cache;
    private readonly AuditLog _audit;
    private readonly TimeProvider _time;
    private readonly ILogger<ImageDescriber> _logger;
    private readonly Lazy<IChatClient> _client;
    private readonly WeSeekMetrics _metrics;

    public ImageDescriber(IOptions<VisionOptions> options, IImageDescriptionStore cache, AuditLog audit, IServiceProvider services, TimeProvider time, ILogger<ImageDescriber> logger, WeSeekMetrics metrics)
    {
        _metrics = metrics;
        _options = options.Value;
        _cache = cache;
        _audit = audit;
        _time = time;
        _logger = logger;
        // Resolved on first use: without Vision:Endpoint there is no client to build.
        _client = new(() => services.GetRequiredKeyedService<IChatClient>(ClientKey));
    }

    /// <summary>True when a vision endpoint is configured.</summary>
    public bool Enabled => _options.Endpoint is not null;

    /// <summary>
    /// The image's description, from the cache or the endpoint; null when the endpoint failed or ran past
    /// <see cref="VisionOptions.Timeout"/>. Throws only when <paramref name="cancellationToken"/> (the turn) is
    /// cancelled or the database fails.
    /// </summary>
    public async Task<string?> DescribeAsync(DataContent image, long inboxId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(image);
        var hash = Convert.ToHexStringLower(SHA256.HashData(image.Data.Span));
        if (await _cache.FindAsync(hash, cancellationToken) is { } cached)
        {
            _metrics.ImageDescriptions.Add(1, new KeyValuePair<string, object?>("source", "cache"));
            Log.Described(_logger, inboxId, image.Data.Length, "cache");
            return cached;
        }

        var started = _time.GetTimestamp();
        using var timeout = new CancellationTokenSource(_options.Timeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, cancellationToken);
        string description;
        try
        {
            var response = await _client.Value.GetResponseAsync(
                [new ChatMessage(ChatRole.User, [new TextContent(_options.Prompt), image])],
                new ChatOptions { MaxOutputTokens = _options.MaxOutputTokens, Temperature = 0.2f },
                linked.Token);
            description = Clean(response.Text);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested && ex is not OutOfMemoryException)
        {
            var timedOut = timeout.IsCancellationRequested || ex is OperationCanceledException;
            _metrics.VisionFailures.Add(1, new KeyValuePair<string, object?>("reason", timedOut ? "timeout" : "error"));
            await AuditAsync(inboxId, hash, image.Data.Length, timedOut ? "timeout" : "error", null, started);
            if (timedOut)
            {
                Log.TimedOut(_logger, inboxId, _options.Timeout);
            }
            else
            {
                Log.Failed(_logger, inboxId, ex.GetType().Name, Security.Redaction.Scrub(ex.Message));
            }

            return null;
        }

        await AuditAsync(inboxId, hash, image.Data.Length, description.Length == 0 ? "empty" : "described", description, started);
        if (description.Length == 0)
        {
            _metrics.VisionFailures.Add(1, new KeyValuePair<string, object?>("reason", "error"));
            Log.Failed(_logger, inboxId, "EmptyAnswer", "the vision model answered with no text");
            return null;
        }

        await _cache.StoreAsync(hash, description, _options.Model, cancellationToken);
        _metrics.ImageDescriptions.Add(1, new KeyValuePair<string, object?>("source", "model"));
        Log.Described(_logger, inboxId, image.Data.Length, "model");
        return description;
    }

    private Task<long> AuditAsync(long inboxId, string imageHash, int bytes, string outcome, string? description, long started) =>
        _audit.AppendAsync("vision.call", new JsonObject
        {
            ["inboxId"] = inboxId,
            ["model"] = _options.Model,
            ["imageSha256"] = imageHash,
            ["imageBytes"] = bytes,
            ["latencyMs"] = (long)_time.GetElapsedTime(started).TotalMilliseconds,
            ["outcome"] = outcome,
            ["descriptionSha256"] = description is null ? null : AuditLog.Sha256(description),
        }, CancellationToken.None);

    /// <summary>The answer without a reasoning block (vision models built on R1-style models write one) and outer space.</summary>
    internal static string Clean(string text)
    {
        var end = text.IndexOf("</think>", StringComparison.Ordinal);
        return (end >= 0 ? text[(end + "</think>".Length)..] : text).Trim();
    }

    /// <summary>
    /// The vision endpoint as a keyed <see cref="IChatClient"/>, built as the model path is: the GenAI span and
    /// metrics (<c>UseOpenTelemetry</c>) over the OpenAI-compatible client. The audit record and the counters stay
    /// with <see cref="DescribeAsync"/>, which alone knows the image, the cache and the outcome.
    /// </summary>
    public static void AddVisionClient(IServiceCollection services) =>
        services.AddKeyedChatClient(ClientKey, sp => CreateClient(sp.GetRequiredService<IOptions<VisionOptions>>().Value, sp.GetRequiredService<IHttpClientFactory>()))
            .UseOpenTelemetry(sourceName: WeSeekMetrics.MeterName);

    private static IChatClient CreateClient(VisionOptions options, IHttpClientFactory factory)
    {
        var endpoint = options.Endpoint ?? throw new InvalidOperationException("Vision:Endpoint is not set.");
        var http = factory.CreateClient(HttpClientName);
        // The HttpClient's own timeout is off; the per-image token (Vision:Timeout) bounds each call.
        http.Timeout = System.Threading.Timeout.InfiniteTimeSpan;
        var client = new OpenAIClient(
            new ApiKeyCredential(string.IsNullOrEmpty(options.ApiKey) ? "none" : options.ApiKey),
            new OpenAIClientOptions
            {
                Endpoint = endpoint,
                Transport = new HttpClientPipelineTransport(http),
                // One attempt: a user is waiting, and a failed description only means answering from the text.
                RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
            });
        return client.GetChatClient(options.Model).AsIChatClient();
    }

    private static partial class Log
    {
        [LoggerMessage(WeSeekEventId.ImageDescribed, LogLevel.Debug, "Described an image of {Bytes} bytes for message {InboxId} (from {Source})")]
        public static partial void Described(ILogger logger, long inboxId, int bytes, string source);

        [LoggerMessage(WeSeekEventId.ImageDescriptionFailed, LogLevel.Warning, "Could not describe an image of message {InboxId}; answering from its text: {Error} {Reason}")]
        public static partial void Failed(ILogger logger, long inboxId, string error, string reason);

        [LoggerMessage(WeSeekEventId.ImageDescriptionTimedOut, LogLevel.Warning, "Describing an image of message {InboxId} took longer than Vision:Timeout ({Timeout}); answering from its text")]
        public static partial void TimedOut(ILogger logger, long inboxId, TimeSpan timeout);
    }
}
