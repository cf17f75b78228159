using System.Threading.Channels;
using WeSeek.Messaging;

namespace WeSeek.Channels.Terminal;

/// <summary>
/// The terminal chat (<c>weseek chat</c>) as a channel: lines typed go through the inbox, and replies from
/// the outbox are handed to the terminal, which reads <see cref="Replies"/>. One chat per process.
/// </summary>
public sealed class TerminalChannel : IChannel
{
    private readonly Channel<OutboundMessage> _replies = Channel.CreateBounded<OutboundMessage>(new BoundedChannelOptions(1024)
    {
        // Wait: the outbox retries rather than drop a reply the terminal has not shown yet.
        FullMode = BoundedChannelFullMode.Wait,
        SingleReader = true,
    });

    private readonly TimeProvider _time;
    private IInboundSink? _sink;

    /// <summary>Creates the channel.</summary>
    public TerminalChannel(TimeProvider time) => _time = time;

    /// <summary>The channel id, <c>terminal</c>.</summary>
    public static ChannelId ChannelId { get; } = ChannelId.From("terminal");

    /// <inheritdoc />
    public ChannelId Id => ChannelId;

    /// <inheritdoc />
    public ChannelCapabilities Capabilities { get; } = new() { MaxTextLength = 100_000, MaxTextBytes = 0, RateLimited = false, Streaming = true, Markdown = true };

    /// <summary>Replies for the terminal to print, in order.</summary>
    public ChannelReader<OutboundMessage> Replies => _replies.Reader;

    /// <inheritdoc />
    public Task StartAsync(IInboundSink sink, CancellationToken cancellationToken)
    {
        _sink = sink;
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task StopAsync(CancellationToken cancellationToken)
    {
        _sink = null;
        return Task.CompletedTask;
    }

    /// <summary>Stores a line the user typed in chat <paramref name="chatId"/>.</summary>
    public ValueTask<AcceptResult> AcceptAsync(string chatId, string text, CancellationToken cancellationToken)
    {
        var sink = _sink ?? throw new InvalidOperationException("The terminal channel is not started.");
        var now = _time.GetUtcNow();
        var message = new InboundMessage(ChannelId, "local", Guid.NewGuid().ToString("N"), chatId, Environment.UserName, text, now);
        return sink.AcceptAsync(message, cancellationToken);
    }

    /// <inheritdoc />
    public async Task<SendReceipt> SendAsync(OutboundMessage message, CancellationToken cancellationToken)
    {
        await _replies.Writer.WriteAsync(message, cancellationToken);
        return new SendReceipt(null);
    }
}
