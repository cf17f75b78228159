using System.Threading.Channels;
using Microsoft.Extensions.Options;
using WeSeek.Messaging;
using WeSeek.Streaming;

namespace WeSeek.Channels.WebChat;

/// <summary>
/// The web chat as a channel: messages posted by the page go through the inbox like WeChat's, and replies
/// from the outbox are pushed to the page's open event streams. A reply is also in the database, so a page
/// that was closed sees it on its next load; the page drops a reply it already shows by its outbox id, which
/// makes a re-send after a crash harmless.
/// </summary>
internal sealed class WebChatChannel : IChannel
{
    /// <summary>The account id of web chat messages: there is one, the local operator's.</summary>
    public const string AccountId = "local";

    // 256 replies per open page: far more than a chat produces before the page reads them.
    private readonly Broadcaster<string, OutboundMessage> _replies = new(capacity: 256);
    private readonly IOptionsMonitor<WebChatOptions> _options;
    private readonly TimeProvider _time;
    private IInboundSink? _sink;

    public WebChatChannel(IOptionsMonitor<WebChatOptions> options, TimeProvider time)
    {
        _options = options;
        _time = time;
    }

    public static ChannelId ChannelId { get; } = ChannelId.From("webchat");

    public ChannelId Id => ChannelId;

    public ChannelCapabilities Capabilities { get; } = new()
    {
        // A browser has no message size limit worth splitting for, and no one to be rate-limited by.
        MaxTextLength = 100_000,
        MaxTextBytes = 0,
        RateLimited = false,
        Streaming = true,
        Markdown = true,
    };

    public Task StartAsync(IInboundSink sink, CancellationToken cancellationToken)
    {
        _sink = sink;
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _sink = null;
        return Task.CompletedTask;
    }

    /// <summary>Stores a message the page posted, in <paramref name="visitor"/>'s own chat. The page's message id
    /// makes its retries harmless.</summary>
    public async ValueTask<AcceptResult> AcceptAsync(WebChatVisitor visitor, string chatId, string clientMessageId, string text, CancellationToken cancellationToken)
    {
        var sink = _sink;
        if (sink is null)
        {
            return new AcceptResult(AcceptOutcome.Rejected, 0, "The web chat is not running (the server is starting or stopping).");
        }

        if (!WebChatMessageMapper.IsValidId(chatId))
        {
            return new AcceptResult(AcceptOutcome.Rejected, 0, "chatId must be 1-64 characters of letters, digits, '-' or '_'.");
        }

        if (!WebChatMessageMapper.IsValidId(clientMessageId))
        {
            return new AcceptResult(AcceptOutcome.Rejected, 0, "clientMessageId must be 1-64 characters of letters, digits, '-' or '_'.");
        }

        if (string.IsNullOrWhiteSpace(text))
        {
            return new AcceptResult(AcceptOutcome.Rejected, 0, "The message is empty.");
        }

        var max = _options.CurrentValue.MaxMessageLength;
        if (text.Length > max)
        {
            return new AcceptResult(AcceptOutcome.Rejected, 0, $"消息太长了：最多 {max} 个字符，这条有 {text.Length} 个，请缩短或分几次发送。The message is longer than {max} characters.");
        }

        return await sink.AcceptAsync(WebChatMessageMapper.ToInbound(visitor.Scope(chatId), clientMessageId, text, _time.GetUtcNow()), cancellationToken);
    }

    public Task<SendReceipt> SendAsync(OutboundMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        _replies.Publish(message.ChatId, message);

        return Task.FromResult(new SendReceipt($"webchat-{message.OutboxId}"));
    }

    /// <summary>Replies sent to <paramref name="chatId"/> from now until <paramref name="cancellationToken"/>.
    /// Bounded; a stalled page loses its oldest replies here and finds them in the history.</summary>
    public ChannelReader<OutboundMessage> SubscribeReplies(string chatId, CancellationToken cancellationToken) =>
        _replies.Subscribe(chatId, cancellationToken);
}
