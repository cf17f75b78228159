using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using WeSeek.Channels.WeChat;
using WeSeek.Channels.WeChatCrypto;
using WeSeek.Messaging;

namespace WeSeek.Channels.WeCom;

/// <summary>
/// One 企业微信 self-built app as a channel (<c>wecom:{name}</c>). Its callback (<see cref="WeChatCallbackEndpoint"/>
/// with <see cref="WeComCallbackProtocol"/>; every callback is encrypted, WeCom has no plain mode) stores each
/// message and answers it with the encrypted answer when the turn finishes within
/// <see cref="WeChatCallbackOptions.PassiveReplyBudget"/>, otherwise with an empty 200, after which the outbox sends the
/// answer here, through <c>message/send</c>.
/// </summary>
internal sealed partial class WeComChannel : IChannel, IMediaSource, IWeChatCallbackChannel
{
    private readonly string _name;
    private readonly WeComAppSettings _app;
    private readonly WeComOptions _options;
    private readonly WeComApiClient _api;
    private readonly ILogger _logger;

    public WeComChannel(string name, WeComAppSettings app, WeComOptions options, IReplyClaims claims, WeComApiClient api, TimeProvider time, ILogger logger)
    {
        _name = name;
        _app = app;
        _options = options;
        _api = api;
        _logger = logger;
        Id = ChannelId.From("wecom:" + name);
        var crypto = new WeChatMessageCrypto(app.Token, app.EncodingAesKey, app.CorpId);
        Callback = new WeChatCallbackEndpoint(Id, name, new WeComCallbackProtocol(Id, name, app, options, crypto), claims,
            options, time, logger);
        Capabilities = new ChannelCapabilities
        {
            // message/send truncates text beyond 2,048 UTF-8 bytes (protocols.md §2.2); the composer splits below it.
            MaxTextBytes = 2048,
            // WeCom silently drops more than 30 messages a minute to one member; five per question keeps long
            // answers well inside that and leaves the rest to 「继续」.
            MaxMessagesPerTrigger = 5,
        };
    }

    public ChannelId Id { get; }

    public ChannelCapabilities Capabilities { get; }

    /// <summary>The app's name, as in the callback URL.</summary>
    public string Name => _name;

    public WeChatCallbackEndpoint Callback { get; }

    public Task StartAsync(IInboundSink sink, CancellationToken cancellationToken)
    {
        Callback.Start(sink);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        Callback.Stop();
        return Task.CompletedTask;
    }

    public Task<MediaContent> DownloadAsync(InboundMessage message, MediaAttachment attachment, long maxBytes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(attachment);
        return attachment.MediaId is { Length: > 0 } mediaId
            ? _api.DownloadMediaAsync(_options.ApiBaseUrl, _app, mediaId, maxBytes, cancellationToken)
            : throw new MediaUnavailableException("The message names no MediaId.");
    }

    public async Task<SendReceipt> SendAsync(OutboundMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        try
        {
            await _api.SendTextAsync(_options.ApiBaseUrl, _app, message.ChatId, message.Text, _options.DuplicateCheckSeconds, cancellationToken);
            return new SendReceipt(null);
        }
        catch (WeChatApiException ex)
        {
            Log.SendFailed(_logger, Id.Value, ex.ErrorCode);
            throw new ChannelSendException(ex.Message, IsPermanent(ex.ErrorCode), ex);
        }
    }

    /// <summary>
    /// True for errors that retrying cannot help: 45009 (the app's API or per-member frequency limit; WeCom
    /// drops what is over it), 45015/45047 (reply-window and per-trigger limits, as on 公众号), 81013 (no valid
    /// recipient: the member left or is outside the app's visible range). A token error that survived its one
    /// refresh, −1 (busy), 45033 (too many concurrent calls), 60020 (IP not yet trusted: the operator can fix
    /// it) and the rest back off.
    /// </summary>
    internal static bool IsPermanent(int errorCode) => errorCode is 45009 or 45015 or 45047 or 81013;

    /// <summary>The URL verification (GET) of an app with this <paramref name="crypto"/>: the plaintext to answer,
    /// or the status to answer and why.</summary>
    internal static (int Status, string? Plain, string Reason) VerifyUrl(WeChatMessageCrypto crypto, IQueryCollection query, int toleranceSeconds, DateTimeOffset now) =>
        WeChatCallbackEndpoint.VerifyUrl(query, (q, echostr) => WeComCallbackProtocol.OpenEchostr(crypto, q, echostr), toleranceSeconds, now);

    private static partial class Log
    {
        [LoggerMessage(ChannelEventId.WeComSendFailed, LogLevel.Warning, "Sending through {Channel}'s message/send failed with errcode {ErrorCode}")]
        public static partial void SendFailed(ILogger logger, string channel, int errorCode);
    }
}
