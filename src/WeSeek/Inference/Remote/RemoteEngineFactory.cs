using System.ClientModel;
using System.ClientModel.Primitives;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;
using OpenAI;

namespace WeSeek.Inference.Remote;

/// <summary>Creates the <see cref="IChatClient"/> for an OpenAI-compatible server, over a client from
/// <see cref="IHttpClientFactory"/> (pooled connections, DNS refresh).</summary>
internal static class RemoteEngineFactory
{
    public const string HttpClientName = "WeSeek.RemoteEngine";

    /// <summary>One server: its client with the conversation sent as <c>user</c>. Several
    /// (<see cref="RemoteEngineOptions.Replicas"/>): a router over one such client per replica.</summary>
    public static IChatClient Create(IServiceProvider services)
    {
        var options = services.GetRequiredService<IOptions<RemoteEngineOptions>>().Value;
        var endpoints = options.Endpoints;
        if (endpoints.Count == 1)
        {
            return new ConversationAffinityChatClient(CreateOne(services, options, endpoints[0]));
        }

        var router = services.GetRequiredService<ReplicaRouter>();
        return new ReplicaRoutingChatClient(router, [.. endpoints.Select(url => new ConversationAffinityChatClient(CreateOne(services, options, url)))]);
    }

    private static IChatClient CreateOne(IServiceProvider services, RemoteEngineOptions options, Uri endpoint)
    {
        var http = services.GetRequiredService<IHttpClientFactory>().CreateClient(HttpClientName);
        // The HttpClient's own timeout is off; the OpenAI pipeline's network timeout bounds each call.
        http.Timeout = System.Threading.Timeout.InfiniteTimeSpan;
        var client = new OpenAIClient(
            new ApiKeyCredential(string.IsNullOrEmpty(options.ApiKey) ? "none" : options.ApiKey),
            new OpenAIClientOptions
            {
                Endpoint = endpoint,
                NetworkTimeout = options.Timeout,
                Transport = new HttpClientPipelineTransport(http),
                // Retries belong to the turn dispatcher (with backoff, across restarts), not to each call.
                RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
            });
        return client.GetChatClient(options.ModelId).AsIChatClient();
    }

    private static T GetRequiredService<T>(this IServiceProvider services) where T : notnull =>
        (T)(services.GetService(typeof(T)) ?? throw new InvalidOperationException($"{typeof(T).Name} is not registered."));
}
