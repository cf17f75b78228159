using WeSeek.Messaging;

namespace WeSeek.TestKit;

/// <summary>
/// A channel that records what it is asked to send, with the capabilities a test gives it (rate-limited
/// like WeChat by default). <see cref="FailNext"/> makes sends throw. Thread-safe.
/// </summary>
public sealed class RecordingChannel : IChannel
{
    private readonly List<(OutboundMessage Message, DateTimeOffset At)> _sent = [];
    private readonly TimeProvider _time;

    public RecordingChannel(string id, TimeProvider time, ChannelCapabilities? capabilities = null)
    {
        Id = ChannelId.From(id);
        _time = time;
        Capabilities = capabilities ?? new ChannelCapabilities();
    }

    public ChannelId Id { get; }

    public ChannelCapabilities Capabilities { get; }

    public IInboundSink? Sink { get; private set; }

    /// <summary>How many of the next sends fail (transiently).</summary>
    public int FailNext { get; set; }

    public IReadOnlyList<(OutboundMessage Message, DateTimeOffset At)> Sent
    {
        get
        {
            lock (_sent)
            {
                return [.. _sent];
            }
        }
    }

    public Task StartAsync(IInboundSink sink, CancellationToken cancellationToken)
    {
        Sink = sink;
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task<SendReceipt> SendAsync(OutboundMessage message, CancellationToken cancellationToken)
    {
        lock (_sent)
        {
            if (FailNext > 0)
            {
                FailNext--;
                throw new ChannelSendException("Simulated platform error 45009.");
            }

            _sent.Add((message, _time.GetUtcNow()));
        }

        return Task.FromResult(new SendReceipt("p-" + message.OutboxId));
    }

    public InboundMessage Message(string externalId, string chatId, string text, bool isGroup = false, string? sender = null) =>
        new(Id, "acct", externalId, chatId, sender ?? chatId, text, _time.GetUtcNow()) { IsGroup = isGroup };
}
