using Microsoft.Extensions.Logging;
using WeSeek.Messaging;

namespace WeSeek.Channels.ILink;

/// <summary>
/// The iLink channel's <c>sendmessage</c>: a reply echoes its chat's latest <c>context_token</c>, within the
/// token's send budget (<see cref="ILinkOptions.MaxSendsPerContextToken"/>) and lifetime, with a client id derived
/// from the outbox row so that a retried send cannot show twice. A rate-limited send is tried again in memory
/// (<see cref="ILinkOptions.SendAttempts"/>, waits from <see cref="ILinkBackoff"/>) before the outbox's own retry
/// takes over; <c>errcode -14</c> ends the session (<see cref="ILinkSessions"/>). Thread-safe.
/// </summary>
internal sealed partial class ILinkSender(ILinkOptions options, ILinkApiClient api, ILinkSessions sessions, ILinkTyping typing, ILinkBackoff backoff, ILinkMetrics metrics, TimeProvider time, ILogger logger, ChannelId channel)
{
    private readonly ILinkOptions _options = options;
    private readonly ILinkApiClient _api = api;
    private readonly ILinkSessions _sessions = sessions;
    private readonly ILinkTyping _typing = typing;
    private readonly ILinkBackoff _backoff = backoff;
    private readonly ILinkMetrics _metrics = metrics;
    private readonly TimeProvider _time = time;
    private readonly ILogger _logger = logger;
    private readonly ChannelId _channel = channel;
    private string? _salt;

    public async Task<SendReceipt> SendAsync(OutboundMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        var session = _sessions.Current ?? (await _sessions.ActiveAsync(cancellationToken))?.Session
            ?? throw new ChannelSendException($"{_channel.Value} is not logged in; run `weseek login weixin`.", isPermanent: false);
        var context = await _sessions.Main.GetContextAsync(message.ChatId, cancellationToken);
        var refusal = context is null ? "no context_token for this chat (iLink answers only users who wrote)"
            : _time.GetUtcNow() - DateTimeOffset.FromUnixTimeMilliseconds(context.ReceivedAtMs) > _options.ContextTokenLifetime ? "the context_token expired"
            : context.Sent >= _options.MaxSendsPerContextToken ? $"the context_token's budget of {_options.MaxSendsPerContextToken} messages is spent"
            : null;
        if (refusal is not null)
        {
            _metrics.BudgetExhausted.Add(1);
            Log.OverBudget(_logger, _channel.Value, message.OutboxId, refusal);
            throw new ChannelSendException($"Not sent: {refusal}.", isPermanent: true);
        }

        _typing.Stop(message.ChatId);
        _salt ??= await _sessions.Main.GetClientSaltAsync(cancellationToken);
        var clientId = ClientId(_salt, message);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await _api.SendTextAsync(session, message.ChatId, context!.Token, clientId, message.Text, cancellationToken);
                break;
            }
            catch (ILinkApiException ex) when (ex.IsRateLimited)
            {
                var delay = _backoff.RateLimited("sendmessage", attempt);
                if (attempt >= _options.SendAttempts)
                {
                    throw new ChannelSendException("iLink rate limited the send (ret=-2).", isPermanent: false, ex);
                }

                await Task.Delay(delay, _time, cancellationToken);
            }
            catch (ILinkApiException ex) when (ex.IsSessionExpired)
            {
                await _sessions.ExpireAsync(session, null, cancellationToken);
                throw new ChannelSendException("The iLink session expired; scan again.", isPermanent: false, ex);
            }
            catch (ILinkApiException ex)
            {
                Log.SendFailed(_logger, _channel.Value, ex.Ret, ex.ErrorCode);
                throw new ChannelSendException(ex.Message, isPermanent: false, ex);
            }
        }

        await _sessions.Main.SetContextAsync(message.ChatId, context with { Sent = context.Sent + 1 }, cancellationToken);
        return new SendReceipt(clientId);
    }

    /// <summary>The send's idempotency key: the install's salt, the outbox row and the chunk's position, so a
    /// retry of the same chunk (after a timeout or a crash) carries the same id.</summary>
    internal static string ClientId(string salt, OutboundMessage message) =>
        FormattableString.Invariant($"weseek-{salt}-{message.OutboxId}-{message.Sequence}");

    private static partial class Log
    {
        [LoggerMessage(ChannelEventId.ILinkOverBudget, LogLevel.Warning, "{Channel}: outbox message {OutboxId} not sent: {Reason}")]
        public static partial void OverBudget(ILogger logger, string channel, long outboxId, string reason);

        [LoggerMessage(ChannelEventId.ILinkSendFailed, LogLevel.Warning, "{Channel}: sendmessage failed with ret {Ret}, errcode {ErrorCode}")]
        public static partial void SendFailed(ILogger logger, string channel, int ret, int errorCode);
    }
}
