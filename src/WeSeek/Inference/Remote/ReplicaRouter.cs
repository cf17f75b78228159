using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using WeSeek.Logging;

namespace WeSeek.Inference.Remote;

/// <summary>
/// Which model server a conversation goes to. Rendezvous (highest-random-weight) hashing: each replica scores
/// hash(conversation, replica) and the conversation goes to the healthy replica with the highest score. A
/// conversation therefore stays on one replica (its KV cache stays warm there), a replica going down moves only
/// its own conversations (each to its second choice), and coming back moves them home. Rendezvous rather than a
/// hash ring: the same guarantees with no virtual nodes to tune, and a handful of replicas costs nothing to
/// score. Health comes from the probe and from calls that fail to connect. Thread-safe.
/// </summary>
internal sealed partial class ReplicaRouter
{
    private readonly Replica[] _replicas;
    private readonly ILogger<ReplicaRouter> _logger;
    private int _roundRobin;

    public ReplicaRouter(IReadOnlyList<Uri> endpoints, ILogger<ReplicaRouter> logger)
    {
        ArgumentOutOfRangeException.ThrowIfZero(endpoints.Count);
        _replicas = [.. endpoints.Select((url, index) => new Replica(index, url))];
        _logger = logger;
    }

    public IReadOnlyList<Uri> Endpoints => [.. _replicas.Select(r => r.Url)];

    public bool IsHealthy(int replica) => _replicas[replica].Healthy;

    /// <summary>The replicas to try for <paramref name="conversation"/>, best first: healthy ones by score, then
    /// the ones marked down (a call may still find one back before the probe does). Without a conversation,
    /// requests take turns.</summary>
    public IReadOnlyList<int> Rank(string? conversation)
    {
        IEnumerable<Replica> ordered;
        if (conversation is null)
        {
            var start = (int)((uint)Interlocked.Increment(ref _roundRobin) % (uint)_replicas.Length);
            ordered = _replicas.Skip(start).Concat(_replicas.Take(start));
        }
        else
        {
            ordered = _replicas.OrderByDescending(r => Score(conversation, r.Url));
        }

        return [.. ordered.OrderBy(r => r.Healthy ? 0 : 1).Select(r => r.Index)];
    }

    public void MarkDown(int replica, string reason)
    {
        var r = _replicas[replica];
        if (r.Healthy)
        {
            r.Healthy = false;
            if (_replicas.Length > 1)
            {
                Log.Down(_logger, r.Url, reason);
            }
        }
    }

    public void MarkUp(int replica)
    {
        var r = _replicas[replica];
        if (!r.Healthy)
        {
            r.Healthy = true;
            if (_replicas.Length > 1)
            {
                Log.Up(_logger, r.Url);
            }
        }
    }

    // SHA-256 for a hash that is the same in every process and version (string.GetHashCode is randomised).
    internal static ulong Score(string conversation, Uri replica) =>
        BinaryPrimitives.ReadUInt64BigEndian(SHA256.HashData(Encoding.UTF8.GetBytes(conversation + "\n" + replica.AbsoluteUri)));

    private sealed class Replica(int index, Uri url)
    {
        public int Index { get; } = index;

        public Uri Url { get; } = url;

        public volatile bool Healthy = true;
    }

    private static partial class Log
    {
        [LoggerMessage(WeSeekEventId.ReplicaDown, LogLevel.Warning, "Model server {Url} is down ({Reason}); its conversations go to their next replica")]
        public static partial void Down(ILogger logger, Uri url, string reason);

        [LoggerMessage(WeSeekEventId.ReplicaUp, LogLevel.Information, "Model server {Url} answers again; its conversations come back to it")]
        public static partial void Up(ILogger logger, Uri url);
    }
}

/// <summary>
/// An <see cref="IChatClient"/> over several replicas: each call goes to its conversation's replica
/// (<see cref="ReplicaRouter"/>); a replica that cannot be reached, or answers 5xx, before anything was
/// streamed is marked down and the call moves to the next. Once output has been streamed a failure is the
/// caller's (the turn is retried whole).
/// </summary>
internal sealed class ReplicaRoutingChatClient : IChatClient
{
    private readonly ReplicaRouter _router;
    private readonly IReadOnlyList<IChatClient> _replicas;

    public ReplicaRoutingChatClient(ReplicaRouter router, IReadOnlyList<IChatClient> replicas)
    {
        _router = router;
        _replicas = replicas;
    }

    public async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var list = messages as IList<ChatMessage> ?? [.. messages];
        Exception? last = null;
        foreach (var replica in _router.Rank(options?.ConversationId))
        {
            try
            {
                var response = await _replicas[replica].GetResponseAsync(list, options, cancellationToken);
                _router.MarkUp(replica);
                return response;
            }
            catch (Exception ex) when (IsReplicaFailure(ex, cancellationToken))
            {
                _router.MarkDown(replica, ex.Message);
                last = ex;
            }
        }

        throw last!;
    }

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var list = messages as IList<ChatMessage> ?? [.. messages];
        Exception? last = null;
        foreach (var replica in _router.Rank(options?.ConversationId))
        {
            await using var updates = _replicas[replica].GetStreamingResponseAsync(list, options, cancellationToken).GetAsyncEnumerator(cancellationToken);
            bool any;
            try
            {
                any = await updates.MoveNextAsync();
            }
            catch (Exception ex) when (IsReplicaFailure(ex, cancellationToken))
            {
                _router.MarkDown(replica, ex.Message);
                last = ex;
                continue;
            }

            _router.MarkUp(replica);
            if (!any)
            {
                yield break;
            }

            yield return updates.Current;
            while (await updates.MoveNextAsync())
            {
                yield return updates.Current;
            }

            yield break;
        }

        throw last!;
    }

    public object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceType == typeof(ReplicaRouter) ? _router : _replicas[0].GetService(serviceType, serviceKey);

    public void Dispose()
    {
        foreach (var replica in _replicas)
        {
            replica.Dispose();
        }
    }

    /// <summary>Connection refused or reset, a timeout that was not the caller's, or a 5xx: try elsewhere.
    /// 4xx is the request's fault and would fail everywhere.</summary>
    private static bool IsReplicaFailure(Exception ex, CancellationToken cancellationToken) => ex switch
    {
        HttpRequestException { StatusCode: null or >= System.Net.HttpStatusCode.InternalServerError } => true,
        System.ClientModel.ClientResultException { Status: 0 or >= 500 } => true,
        OperationCanceledException => !cancellationToken.IsCancellationRequested,
        _ => ex.InnerException is not null && IsReplicaFailure(ex.InnerException, cancellationToken),
    };
}
