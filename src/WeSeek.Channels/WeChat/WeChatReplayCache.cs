using System.Collections.Concurrent;
using System.Globalization;

namespace WeSeek.Channels.WeChat;

/// <summary>
/// The (timestamp, nonce) pairs of one account's signed callbacks, kept for as long as their timestamp is
/// inside the replay window: a signature covers token, timestamp and nonce, so the same three fields seen
/// twice are a captured request played back, not a delivery from WeChat (each delivery, retries included,
/// is signed afresh with a new nonce). Only requests whose signature already verified are recorded, so an
/// attacker without the token cannot fill it. Thread-safe.
/// </summary>
internal sealed class WeChatReplayCache(TimeProvider time, int toleranceSeconds)
{
    // With the timestamp check off (tolerance 0) any timestamp is fresh and no window bounds a replay; five
    // minutes still refuses the quick replay of a request read from a log.
    private const int WindowWhenUnbounded = 300;

    // Pruning runs when the cache grows past this; the pairs are authenticated, so only WeChat's own volume
    // (or replays of it) grows it.
    private const int PruneAbove = 10_000;

    private readonly ConcurrentDictionary<(string Timestamp, string Nonce), long> _seen = new();
    private readonly int _window = toleranceSeconds > 0 ? toleranceSeconds : WindowWhenUnbounded;

    /// <summary>Records the pair; false when it was already recorded within the window (a replay).</summary>
    public bool TryRecord(string timestamp, string nonce)
    {
        var now = time.GetUtcNow().ToUnixTimeSeconds();
        var stamp = long.TryParse(timestamp, NumberStyles.None, CultureInfo.InvariantCulture, out var s) ? s : now;
        // Kept until the timestamp itself would be refused as stale, and at least one window from now.
        var expires = Math.Max(stamp, now) + _window;
        if (_seen.Count > PruneAbove)
        {
            foreach (var old in _seen.Where(p => p.Value < now).Select(p => p.Key).ToList())
            {
                _seen.TryRemove(old, out _);
            }
        }

        var added = true;
        _seen.AddOrUpdate((timestamp, nonce), expires, (_, previous) =>
        {
            if (previous >= now)
            {
                added = false;
                return previous;
            }

            return expires;
        });
        return added;
    }
}
