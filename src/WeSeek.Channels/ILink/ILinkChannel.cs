using Microsoft.Extensions.Logging;
using WeSeek.Messaging;
using WeSeek.Operations;

namespace WeSeek.Channels.ILink;

/// <summary>
/// A personal WeChat account through iLink (<c>ilink:{account}</c>): the channel contract over parts with one job
/// each. <see cref="ILinkPoller"/> long-polls <c>getupdates</c> under the bot token's lease and moves the cursor
/// only after <see cref="ILinkReceiver"/> has stored the batch in the inbox; <see cref="ILinkSender"/> answers
/// within the chat's <c>context_token</c> budget; <see cref="ILinkSessions"/> knows which login is in use and
/// ends it on <c>errcode -14</c>, telling the operator to scan again (the poller resumes by itself when a new
/// login is stored); <see cref="ILinkTyping"/> shows "对方正在输入"; <see cref="ILinkBackoff"/> times every retry.
/// </summary>
internal sealed class ILinkChannel : IChannel, IAsyncDisposable
{
    private readonly ILinkTyping _typing;
    private readonly ILinkReceiver _receiver;
    private readonly ILinkPoller _poller;
    private readonly ILinkSender _sender;

    public ILinkChannel(ILinkOptions options, ILinkApiClient api, IChannelStateStore store, IChannelLease lease, IOperatorNotices notices, ILinkMetrics metrics, ReplyInstruments replies, TimeProvider time, ILogger logger)
    {
        Id = ChannelId.From(options.ChannelName);
        var sessions = new ILinkSessions(options, store, notices, metrics, logger, Id);
        var backoff = new ILinkBackoff(options, metrics, logger, Id);
        _typing = new ILinkTyping(api, options, replies, time, logger, Id);
        _receiver = new ILinkReceiver(options, sessions, _typing, metrics, time, logger, Id);
        _poller = new ILinkPoller(options, api, sessions, _receiver, backoff, lease, notices, time, logger, Id);
        _sender = new ILinkSender(options, api, sessions, _typing, backoff, metrics, time, logger, Id);
        Capabilities = new ChannelCapabilities
        {
            MaxTextLength = options.MaxTextLength,
            // iLink counts characters, not bytes (anchors.md §4.1).
            MaxTextBytes = 0,
            MaxMessagesPerTrigger = options.MaxSendsPerContextToken,
        };
    }

    public ChannelId Id { get; }

    public ChannelCapabilities Capabilities { get; }

    /// <summary>Where the poller is; for the console and tests.</summary>
    public ILinkPollerState State => _poller.State;

    public Task StartAsync(IInboundSink sink, CancellationToken cancellationToken)
    {
        _receiver.Open(sink);
        _poller.Start();
        return Task.CompletedTask;
    }

    /// <summary>Idempotent: the host stops the channel, then the container disposes it (once per registration).</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _poller.StopAsync(cancellationToken);
        _typing.StopAll();
        _receiver.Close();
    }

    public ValueTask DisposeAsync() => new(StopAsync(CancellationToken.None));

    public Task<SendReceipt> SendAsync(OutboundMessage message, CancellationToken cancellationToken) =>
        _sender.SendAsync(message, cancellationToken);
}
