using Microsoft.Extensions.Logging;
using WeSeek.Channels.WeChat;
using WeSeek.Channels.WeChatCrypto;
using WeSeek.Messaging;
using WeSeek.Operations;

namespace WeSeek.Channels.OfficialAccount;

/// <summary>
/// One 公众号 as a channel (<c>mp:{name}</c>). Its callback (<see cref="WeChatCallbackEndpoint"/> with
/// <see cref="OfficialAccountCallbackProtocol"/>) stores each message and answers it passively when the turn
/// finishes within <see cref="WeChatCallbackOptions.PassiveReplyBudget"/>, otherwise with <c>success</c>, after
/// which the outbox sends the answer here, through the customer-service API.
/// </summary>
internal sealed partial class OfficialAccountChannel : IChannel, IMediaSource, IWeChatCallbackChannel, IDisposable
{
    private readonly OfficialAccountSettings _account;
    private readonly OfficialAccountOptions _options;
    private readonly IReplyClaims _claims;
    private readonly OfficialAccountApiClient _api;
    private readonly CancellationTokenSource _stopping = new();
    private readonly TimeProvider _time;
    private readonly ReplyInstruments _replies;
    private readonly ILogger _logger;

    public OfficialAccountChannel(string name, OfficialAccountSettings account, OfficialAccountOptions options, IReplyClaims claims, OfficialAccountApiClient api, ReplyInstruments replies, TimeProvider time, ILogger logger)
    {
        _replies = replies;
        _account = account;
        _options = options;
        _claims = claims;
        _api = api;
        _time = time;
        _logger = logger;
        Id = ChannelId.From("mp:" + name);
        var crypto = string.IsNullOrEmpty(account.EncodingAesKey) ? null : new WeChatMessageCrypto(account.Token, account.EncodingAesKey, account.AppId);
        // Typing needs the 客服 permission; a passive-only account has none.
        var typing = account.Typing && account.ReplyMode == ReplyMode.CustomerService ? StartTyping : (Action<long, InboundMessage>?)null;
        Callback = new WeChatCallbackEndpoint(Id, name, new OfficialAccountCallbackProtocol(Id, name, account, options, crypto, typing), claims,
            options, time, logger);
        Capabilities = new ChannelCapabilities
        {
            MaxTextBytes = 2048,
            // 客服 allows five messages per user message (45047 after); a passive-only account has one reply.
            MaxMessagesPerTrigger = account.ReplyMode == ReplyMode.PassiveOnly ? 1 : 5,
            // A subscription account has no API to send with: its replies wait for the user's next message.
            Push = account.ReplyMode != ReplyMode.PassiveOnly,
        };
    }

    public ChannelId Id { get; }

    public ChannelCapabilities Capabilities { get; }

    public WeChatCallbackEndpoint Callback { get; }

    public Task StartAsync(IInboundSink sink, CancellationToken cancellationToken)
    {
        Callback.Start(sink);
        return Task.CompletedTask;
    }

    public void Dispose() => _stopping.Dispose();

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        Callback.Stop();
        // Typing renewals end with the channel.
        await _stopping.CancelAsync();
    }

    public Task<MediaContent> DownloadAsync(InboundMessage message, MediaAttachment attachment, long maxBytes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(attachment);
        return attachment.MediaId is { Length: > 0 } mediaId
            ? _api.DownloadMediaAsync(_options.ApiBaseUrl, _account, mediaId, maxBytes, cancellationToken)
            : throw new MediaUnavailableException("The message names no MediaId.");
    }

    public async Task<SendReceipt> SendAsync(OutboundMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (_account.ReplyMode == ReplyMode.PassiveOnly)
        {
            // Not reached (Capabilities.Push is false, so the sender leaves these replies to be claimed).
            throw new ChannelSendException("This account answers passively only; the reply waits for the user's next message.", isPermanent: false);
        }

        try
        {
            await _api.SendTextAsync(_options.ApiBaseUrl, _account, message.ChatId, message.Text, cancellationToken);
            return new SendReceipt(null);
        }
        catch (WeChatApiException ex)
        {
            Log.SendFailed(_logger, Id.Value, ex.ErrorCode);
            // 45015: 48-hour window closed or unfollowed; 45047: quota of this trigger spent; 43004/40003: not a
            // follower; 48001: no 客服 permission. Retrying cannot help; anything else backs off.
            throw new ChannelSendException(ex.Message, isPermanent: ex.ErrorCode is 45015 or 45047 or 43004 or 40003 or 48001 or 45002, ex);
        }
    }

    // Not awaited: the callback's answer never waits on a call to WeChat's API.
    private void StartTyping(long inboxId, InboundMessage message) => _ = TypeOnceAsync(inboxId, message.ChatId, message.SentAt, _time.GetTimestamp());

    /// <summary>WeChat refuses typing this long after the user's message (45080).</summary>
    private static readonly TimeSpan TypingWindow = TimeSpan.FromSeconds(30);

    /// <summary>
    /// "对方正在输入" while the model thinks, by WeChat's rules: once per message (a renewal inside 15 s is
    /// refused, 45081), only when the turn has not stored its answer within
    /// <see cref="OfficialAccountOptions.TypingDelay"/> (never after the answer), and never 30 s or more after
    /// the user's message (45080). WeChat clears it after 15 s or when the answer arrives.
    /// </summary>
    private async Task TypeOnceAsync(long inboxId, string openId, DateTimeOffset sentAt, long storedAt)
    {
        try
        {
            if (await _claims.WaitForTurnAsync(inboxId, _options.TypingDelay, _stopping.Token)
                || _time.GetUtcNow() - sentAt >= TypingWindow)
            {
                return;
            }

            await _api.TypingAsync(_options.ApiBaseUrl, _account, openId, typing: true, _stopping.Token);
            _replies.RecordTyping(_time.GetElapsedTime(storedAt), Id.Value);
        }
        catch (WeChatApiException ex) when (ex.ErrorCode is 45080 or 45081)
        {
            // WeChat's "too late" (45080) and "already typing" (45081): stop typing for this message.
            Log.TypingRefused(_logger, Id.Value, ex.ErrorCode);
        }
        catch (Exception ex) when (ex is WeChatApiException or HttpRequestException or OperationCanceledException)
        {
            // Typing is a courtesy; never fail a message for it.
        }
    }

    private static partial class Log
    {
        [LoggerMessage(ChannelEventId.TypingRefused, LogLevel.Debug, "{Channel}: WeChat refused the typing status (errcode {ErrorCode}); no more typing for this message")]
        public static partial void TypingRefused(ILogger logger, string channel, int errorCode);

        [LoggerMessage(ChannelEventId.ApiSendFailed, LogLevel.Warning, "Sending through {Channel}'s API failed with errcode {ErrorCode}")]
        public static partial void SendFailed(ILogger logger, string channel, int errorCode);
    }
}
