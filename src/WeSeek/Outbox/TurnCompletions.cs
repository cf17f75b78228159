using System.Collections.Concurrent;

namespace WeSeek.Outbox;

/// <summary>In-process signals that a turn stored its results, for <see cref="OutboxReplyClaims"/>, and the
/// inbox ids whose replies a channel holds back from the sender while it waits to answer passively. A waiter
/// registers before it checks the database, so a completion between the two is not missed. Thread-safe.</summary>
internal sealed class TurnCompletions
{
    private readonly ConcurrentDictionary<long, TaskCompletionSource> _waiting = new();
    private readonly ConcurrentDictionary<long, int> _held = new();

    /// <summary>True while a channel waits to answer <paramref name="inboxId"/> in the platform's request.</summary>
    public bool IsHeld(long inboxId) => _held.ContainsKey(inboxId);

    public void Hold(long inboxId) => _held.AddOrUpdate(inboxId, 1, (_, n) => n + 1);

    public void Release(long inboxId)
    {
        while (_held.TryGetValue(inboxId, out var n))
        {
            if (n <= 1 ? _held.TryRemove(new KeyValuePair<long, int>(inboxId, n)) : _held.TryUpdate(inboxId, n - 1, n))
            {
                return;
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
