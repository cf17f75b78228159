using System.Collections.Concurrent;

namespace WeSeek.Channels.WeChat;

/// <summary>An access_token and when it stops being valid.</summary>
/// <param name="Value">The token; never logged.</param>
/// <param name="ExpiresAt">When WeChat stops accepting it.</param>
public readonly record struct AccessToken(string Value, DateTimeOffset ExpiresAt);

/// <summary>
/// One access_token per AppID (公众号) or per WeCom app, shared by everything that calls WeChat's API. WeChat
/// wants one central owner of the refresh (a classic <c>token</c> call invalidates the previous token), so the
/// contract is a cache keyed by app: an in-process implementation for one instance, a Redis-backed one
/// (same contract, a distributed lock around the refresh) when several instances run.
/// Thread-safe.
/// </summary>
public interface IAccessTokenCache
{
    /// <summary>The cached token for <paramref name="key"/>, refreshed through <paramref name="refresh"/> when it
    /// is missing or near expiry; concurrent callers share one refresh (single-flight).</summary>
    ValueTask<string> GetAsync(string key, Func<CancellationToken, Task<AccessToken>> refresh, CancellationToken cancellationToken);

    /// <summary>Drops <paramref name="token"/> after WeChat refused it (40001, 40014, 42001). Only that token:
    /// when another caller already replaced it, the newer one stays.</summary>
    void Invalidate(string key, string token);
}

/// <summary>The in-process <see cref="IAccessTokenCache"/>: refreshes 5 minutes ahead of expiry, one refresh
/// per key at a time.</summary>
internal sealed class InProcessAccessTokenCache : IAccessTokenCache
{
    /// <summary>How long before expiry a token is refreshed: 5 minutes, WeChat's own rotation margin for
    /// stable_token and the overlap during which the old token still works.</summary>
    public static readonly TimeSpan RefreshAhead = TimeSpan.FromMinutes(5);

    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;

    public InProcessAccessTokenCache(TimeProvider time) => _time = time;

    public async ValueTask<string> GetAsync(string key, Func<CancellationToken, Task<AccessToken>> refresh, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(refresh);
        var entry = _entries.GetOrAdd(key, _ => new Entry());
        if (entry.Token is { } fresh && fresh.ExpiresAt - RefreshAhead > _time.GetUtcNow())
        {
            return fresh.Value;
        }

        await entry.Lock.WaitAsync(cancellationToken);
        try
        {
            if (entry.Token is { } again && again.ExpiresAt - RefreshAhead > _time.GetUtcNow())
            {
                return again.Value;
            }

            var token = await refresh(cancellationToken);
            entry.Token = token;
            return token.Value;
        }
        finally
        {
            entry.Lock.Release();
        }
    }

    public void Invalidate(string key, string token)
    {
        if (_entries.TryGetValue(key, out var entry) && entry.Token is { } current && current.Value == token)
        {
            entry.Token = null;
        }
    }

    private sealed class Entry
    {
        public SemaphoreSlim Lock { get; } = new(1, 1);

        public AccessToken? Token { get; set; }
    }
}
