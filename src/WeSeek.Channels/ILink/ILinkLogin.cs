using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WeSeek.Messaging;

namespace WeSeek.Channels.ILink;

/// <summary>How a QR login ended.</summary>
public enum ILinkLoginOutcome
{
    /// <summary>Scanned and confirmed; the token is stored.</summary>
    LoggedIn,

    /// <summary>The QR code expired more often than <see cref="ILinkOptions.QrRefreshes"/> allows.</summary>
    Expired,

    /// <summary>The bot is already bound to this install (<c>binded_redirect</c>); the stored token stays.</summary>
    AlreadyBound,

    /// <summary>WeChat asked for a verification code, which this client cannot enter yet, or blocked it.</summary>
    VerificationRequired,
}

/// <summary>What a QR login came to.</summary>
/// <param name="Outcome">How it ended.</param>
/// <param name="BotId">The bot's account id (<c>ilink_bot_id</c>) when logged in.</param>
public sealed record ILinkLoginResult(ILinkLoginOutcome Outcome, string? BotId);

/// <summary>What a login tells the person scanning, as it happens.</summary>
public enum ILinkLoginProgress
{
    /// <summary>A (new) QR code is on display.</summary>
    QrCodeShown,

    /// <summary>The code was scanned; waiting for the confirmation on the phone.</summary>
    Scanned,
}

/// <summary>
/// The QR-code login state machine (protocol.md "QR-code login"): fetch a code, show it, poll its status
/// (<c>wait</c> → <c>scaned</c> → <c>confirmed</c>), follow <c>scaned_but_redirect</c> to the named host, fetch a
/// new code when one expires (at most <see cref="ILinkOptions.QrRefreshes"/> times), and store the token, the
/// API host and the bot id in the channel's store. One login at a time per caller; not thread-safe.
/// </summary>
public sealed partial class ILinkLogin
{
    private readonly ILinkApiClient _api;
    private readonly IChannelStateStore _store;
    private readonly ILinkOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<ILinkLogin> _logger;

    internal ILinkLogin(ILinkApiClient api, IChannelStateStore store, IOptions<ILinkOptions> options, TimeProvider time, ILogger<ILinkLogin> logger)
    {
        _api = api;
        _store = store;
        _options = options.Value;
        _time = time;
        _logger = logger;
    }

    /// <summary>The channel the login is stored for (<c>ilink:{Account}</c>).</summary>
    public ChannelId Channel => ChannelId.From(_options.ChannelName);

    /// <summary>Runs a login. <paramref name="showQrCode"/> gets the content to render as a QR code (a URL),
    /// once per code; <paramref name="progress"/> hears when it was scanned.</summary>
    public async Task<ILinkLoginResult> RunAsync(Func<string, CancellationToken, Task> showQrCode, Action<ILinkLoginProgress>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(showQrCode);
        var state = new ILinkState(_store, Channel);
        var known = await state.GetKnownTokensAsync(cancellationToken);
        var pollBase = WithSlash(_options.BaseUrl);
        var qr = await NewCodeAsync(known, showQrCode, progress, cancellationToken);
        var refreshes = 0;
        var scanned = false;
        while (true)
        {
            var status = await _api.GetQrStatusAsync(pollBase, qr, cancellationToken);
            Log.Status(_logger, status.Status ?? "");
            switch (status.Status)
            {
                case "scaned" when !scanned:
                    scanned = true;
                    progress?.Invoke(ILinkLoginProgress.Scanned);
                    break;
                case "scaned_but_redirect" when !string.IsNullOrEmpty(status.RedirectHost):
                    // The login continues at another data centre ("IDC redirect").
                    pollBase = WithSlash(new Uri(status.RedirectHost.Contains("://", StringComparison.Ordinal) ? status.RedirectHost : "https://" + status.RedirectHost));
                    break;
                case "confirmed":
                    if (string.IsNullOrEmpty(status.BotToken) || string.IsNullOrEmpty(status.IlinkBotId))
                    {
                        throw new ILinkApiException("The login was confirmed without a bot token or bot id.");
                    }

                    var apiBase = Uri.TryCreate(status.Baseurl, UriKind.Absolute, out var url) && url.Scheme is "https" or "http" ? url : _options.BaseUrl;
                    await state.SaveLoginAsync(status.BotToken, apiBase, status.IlinkBotId, status.IlinkUserId, cancellationToken);
                    Log.LoggedIn(_logger, Channel.Value, status.IlinkBotId);
                    return new ILinkLoginResult(ILinkLoginOutcome.LoggedIn, status.IlinkBotId);
                case "expired" or "verify_code_blocked":
                    if (++refreshes > _options.QrRefreshes)
                    {
                        Log.Failed(_logger, Channel.Value, status.Status);
                        return new ILinkLoginResult(status.Status == "expired" ? ILinkLoginOutcome.Expired : ILinkLoginOutcome.VerificationRequired, null);
                    }

                    scanned = false;
                    pollBase = WithSlash(_options.BaseUrl);
                    qr = await NewCodeAsync(known, showQrCode, progress, cancellationToken);
                    continue;
                case "need_verifycode":
                    Log.Failed(_logger, Channel.Value, status.Status);
                    return new ILinkLoginResult(ILinkLoginOutcome.VerificationRequired, null);
                case "binded_redirect":
                    return new ILinkLoginResult(ILinkLoginOutcome.AlreadyBound, null);
            }

            // get_qrcode_status is a long-poll; this pause only matters when a server answers at once.
            await Task.Delay(_options.QrPollInterval, _time, cancellationToken);
        }
    }

    private async Task<string> NewCodeAsync(IReadOnlyList<string> known, Func<string, CancellationToken, Task> show, Action<ILinkLoginProgress>? progress, CancellationToken cancellationToken)
    {
        var code = await _api.GetQrCodeAsync(WithSlash(_options.BaseUrl), known, cancellationToken);
        Log.QrCode(_logger, Channel.Value);
        await show(code.QrcodeImgContent!, cancellationToken);
        progress?.Invoke(ILinkLoginProgress.QrCodeShown);
        return code.Qrcode!;
    }

    private static Uri WithSlash(Uri url) => url.AbsoluteUri.EndsWith('/') ? url : new Uri(url.AbsoluteUri + "/");

    private static partial class Log
    {
        [LoggerMessage(ChannelEventId.ILinkQrCode, LogLevel.Information, "{Channel}: login QR code fetched; waiting for the scan")]
        public static partial void QrCode(ILogger logger, string channel);

        [LoggerMessage(ChannelEventId.ILinkQrStatus, LogLevel.Debug, "Login QR code status: {Status}")]
        public static partial void Status(ILogger logger, string status);

        [LoggerMessage(ChannelEventId.ILinkLoggedIn, LogLevel.Information, "{Channel}: logged in as bot {BotId}")]
        public static partial void LoggedIn(ILogger logger, string channel, string botId);

        [LoggerMessage(ChannelEventId.ILinkLoginFailed, LogLevel.Warning, "{Channel}: login ended without a token ({Status})")]
        public static partial void Failed(ILogger logger, string channel, string status);
    }
}
