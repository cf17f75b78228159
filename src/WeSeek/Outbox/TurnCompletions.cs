using System.Collections.Concurrent;
using WeSeek.Messaging;

namespace WeSeek.Outbox;

/// <summary>In-process signals that a turn stored its results, for <see cref="OutboxReplyClaims"/>, and the
/// inbox ids whose replies are held back from the sender while a channel waits to answer passively. A waiter
/// registers before it checks the database, so a completion between the two is not missed. Thread-safe.
/// </summary>
/// <remarks>
/// A hold starts when the inbox stores the message (a pre-hold with a deadline, see
/// <see cref="InboundMessage.PassiveReplyWindow"/>), not when the channel starts waiting: a turn that finishes
/// between the two would otherwise be sent through the platform's API and the passive reply lost. A waiter's
/// release ends the pre-hold too; a channel that never waits (its request died) loses the hold at the deadline.
/// </remarks>
internal sealed class TurnCompletions
{
    private const int SweepAbove = 1024;
    private readonly ConcurrentDictionary<long, TaskCompletionSource> _waiting = new();
    private readonly Dictionary<long, HoldState> _held = [];
    private readonly Lock _heldLock = new();

    /// <summary>
    /// True while the replies of <paramref name="inboxId"/> are held for a passive reply. <paramref name="until"/>
    /// is the pre-hold's deadline when only a pre-hold remains (the sender looks again then), else null (a
    /// waiter's release signals the sender).
    /// </summary>
    public bool IsHeld(long inboxId, DateTimeOffset now, out DateTimeOffset? until)
    {
        lock (_heldLock)
        {
            until = null;
            if (!_held.TryGetValue(inboxId, out var hold))
            {
                return false;
            }

            if (hold.Waiters > 0)
            {
                return true;
            }

            if (hold.PreHeldUntil > now)
            {
                until = hold.PreHeldUntil;
                return true;
            }

            _held.Remove(inboxId);
            return false;
        }
    }

    /// <summary>Holds the replies until <paramref name="until"/> at most, before any waiter exists.</summary>
    public void PreHold(long inboxId, DateTimeOffset now, DateTimeOffset until)
    {
        lock (_heldLock)
        {
            if (_held.Count > SweepAbove)
            {
                // Pre-holds of requests that never waited: bounded memory without a timer.
                foreach (var expired in _held.Where(h => h.Value.Waiters == 0 && h.Value.PreHeldUntil <= now).Select(h => h.Key).ToList())
                {
                    _held.Remove(expired);
                }
            }

            var hold = _held.GetValueOrDefault(inboxId);
            _held[inboxId] = hold with { PreHeldUntil = hold.PreHeldUntil > until ? hold.PreHeldUntil : until };
        }
    }

    public void Hold(long inboxId)
    {
        lock (_heldLock)
        {
            var hold = _held.GetValueOrDefault(inboxId);
            _held[inboxId] = hold with { Waiters = hold.Waiters + 1 };
        }
    }

    /// <summary>A waiter is done (claimed or timed out): ends its hold and any pre-hold.</summary>
    public void Release(long inboxId)
    {
        lock (_heldLock)
        {
            if (!_held.TryGetValue(inboxId, out var hold))
            {
                return;
            }

            if (hold.Waiters <= 1)
            {
                _held.Remove(inboxId);
            }
            else
            {
                _held[inboxId] = new HoldState(hold.Waiters - 1, DateTimeOffset.MinValue);
            }
        }
    }

    public Task Register(long inboxId) =>
        _waiting.GetOrAdd(inboxId, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    public void Complete(long inboxId)
    {
        if (_waiting.TryRemove(inboxId, out var completion))
        {
            completion.TrySetResult();
        }
    }

    /// <summary>Drops a registration nobody waits for any more (bounded memory after timeouts).</summary>
    public void Forget(long inboxId, Task registered)
    {
        if (_waiting.TryGetValue(inboxId, out var completion) && completion.Task == registered)
        {
            _waiting.TryRemove(new KeyValuePair<long, TaskCompletionSource>(inboxId, completion));
        }
    }

    private readonly record struct HoldState(int Waiters, DateTimeOffset PreHeldUntil);
}

/// <summary>
/// Serialises, per chat, the outbox sender's "send then mark sent" with <see cref="OutboxReplyClaims"/>'
/// claims, so a reply cannot be both claimed for a passive reply and sent through the API. Striped locks:
/// bounded memory whatever the number of chats; two chats sharing a stripe only wait for each other.
/// In-process: several instances sharing a database would need a row lease instead.
/// </summary>
internal sealed class ChatSendGate : IDisposable
{
    private readonly SemaphoreSlim[] _stripes = [.. Enumerable.Range(0, 64).Select(_ => new SemaphoreSlim(1, 1))];

    public async Task<IDisposable> EnterAsync(string channel, string account, string chatId, CancellationToken cancellationToken)
    {
        var stripe = _stripes[(int)((uint)HashCode.Combine(channel, account, chatId) % (uint)_stripes.Length)];
        await stripe.WaitAsync(cancellationToken);
        return new Releaser(stripe);
    }

    public void Dispose()
    {
        foreach (var stripe in _stripes)
        {
            stripe.Dispose();
        }
    }

    private sealed class Releaser(SemaphoreSlim stripe) : IDisposable
    {
        public void Dispose() => stripe.Release();
    }
}
