using Microsoft.Extensions.Logging;
using WeSeek.Messaging;

namespace WeSeek.Channels.ILink;

/// <summary>
/// One message of a <c>getupdates</c> batch into the inbox: mapped, its chat's <c>context_token</c> saved
/// before the inbox sees it (a reply cannot be sent before its token is known), typing started, then stored.
/// A message the inbox cannot store throws <see cref="ILinkInboxException"/>, so that the batch is read again.
/// Called by the poller only, one message at a time.
/// </summary>
internal sealed partial class ILinkReceiver(ILinkOptions options, ILinkSessions sessions, ILinkTyping typing, ILinkMetrics metrics, TimeProvider time, ILogger logger, ChannelId channel)
{
    private readonly ILinkOptions _options = options;
    private readonly ILinkSessions _sessions = sessions;
    private readonly ILinkTyping _typing = typing;
    private readonly ILinkMetrics _metrics = metrics;
    private readonly TimeProvider _time = time;
    private readonly ILogger _logger = logger;
    private readonly ChannelId _channel = channel;
    private IInboundSink? _sink;

    /// <summary>Messages go to <paramref name="sink"/> from now on.</summary>
    public void Open(IInboundSink sink) => _sink = sink;

    /// <summary>The channel stopped: a message still on its way is not accepted.</summary>
    public void Close() => _sink = null;

    public async Task AcceptAsync(ILinkMessage message, CancellationToken stopping)
    {
        if (ILinkMessageMapper.ToInbound(_channel, _options.Account, message) is not { } inbound)
        {
            return;
        }

        _metrics.Received.Add(1);
        if (!string.IsNullOrEmpty(message.ContextToken))
        {
            // Before the inbox: the reply cannot be sent before its token is known.
            await _sessions.Main.SetContextAsync(inbound.ChatId, new ILinkChatContext(message.ContextToken, _time.GetUtcNow().ToUnixTimeMilliseconds(), 0), stopping);
        }

        var sink = _sink ?? throw new OperationCanceledException(stopping);
        // Typing starts before the inbox call, so that a reply sent faster than this loop continues (a
        // command needs no model) always finds it and ends it.
        var typing = inbound.Kind != MessageKind.Other && _options.Typing && _sessions.Current is { } session
            && _typing.Start(session, inbound.ChatId, message.ContextToken);
        AcceptResult accepted;
        try
        {
            accepted = await sink.AcceptAsync(inbound, stopping);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            _typing.StopIf(typing, inbound.ChatId);
            throw new ILinkInboxException(ex);
        }
        catch (OperationCanceledException)
        {
            _typing.StopIf(typing, inbound.ChatId);
            throw;
        }

        if (accepted.Outcome != AcceptOutcome.Stored)
        {
            // A duplicate is answered (or being answered) already; a refused message never will be.
            _typing.StopIf(typing, inbound.ChatId);
        }

        if (!accepted.IsAccepted)
        {
            // Refused for good (too long, malformed): skipping it is the only way past it.
            Log.Refused(_logger, _channel.Value, accepted.Reason ?? "");
            return;
        }

        Log.Stored(_logger, _channel.Value, accepted.InboxId);
    }

    private static partial class Log
    {
        [LoggerMessage(ChannelEventId.ILinkStored, LogLevel.Debug, "{Channel}: message stored as {InboxId}")]
        public static partial void Stored(ILogger logger, string channel, long inboxId);

        [LoggerMessage(ChannelEventId.ILinkRefused, LogLevel.Warning, "{Channel}: the inbox refused a message ({Reason}); skipped")]
        public static partial void Refused(ILogger logger, string channel, string reason);
    }
}

/// <summary>The inbox could not store a message of a batch: the batch is polled again, the cursor stays.</summary>
internal sealed class ILinkInboxException : Exception
{
    public ILinkInboxException(Exception inner) : base("The inbox could not store a message: " + inner.Message, inner) { }

    public ILinkInboxException() { }

    public ILinkInboxException(string message) : base(message) { }

    public ILinkInboxException(string message, Exception inner) : base(message, inner) { }
}
