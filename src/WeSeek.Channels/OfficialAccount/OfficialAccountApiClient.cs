using Microsoft.Extensions.Logging;
using WeSeek.Channels.WeChat;
using WeSeek.Messaging;

namespace WeSeek.Channels.OfficialAccount;

/// <summary>
/// The 公众号 API calls WeSeek makes: <c>stable_token</c>, <c>message/custom/send</c>,
/// <c>message/custom/typing</c> and <c>media/get</c>, through IHttpClientFactory (client <see cref="HttpClientName"/>). A call
/// refused for its token (40001/40014/42001) refreshes it and is retried once. Thread-safe.
/// </summary>
internal sealed partial class OfficialAccountApiClient
{
    public const string HttpClientName = "WeSeek.OfficialAccount";

    private readonly IHttpClientFactory _http;
    private readonly IAccessTokenCache _tokens;
    private readonly TimeProvider _time;
    private readonly ILogger<OfficialAccountApiClient> _logger;

    public OfficialAccountApiClient(IHttpClientFactory http, IAccessTokenCache tokens, TimeProvider time, ILogger<OfficialAccountApiClient> logger)
    {
        _http = http;
        _tokens = tokens;
        _time = time;
        _logger = logger;
    }

    /// <summary>Sends a 客服 text message.</summary>
    public Task SendTextAsync(Uri baseUrl, OfficialAccountSettings account, string openId, string text, CancellationToken cancellationToken) =>
        CallAsync(baseUrl, account, "cgi-bin/message/custom/send", new { touser = openId, msgtype = "text", text = new { content = text } }, cancellationToken);

    /// <summary>Shows or cancels "对方正在输入" (<c>Typing</c> / <c>CancelTyping</c>).</summary>
    public Task TypingAsync(Uri baseUrl, OfficialAccountSettings account, string openId, bool typing, CancellationToken cancellationToken) =>
        CallAsync(baseUrl, account, "cgi-bin/message/custom/typing", new { touser = openId, command = typing ? "Typing" : "CancelTyping" }, cancellationToken);

    /// <summary>
    /// Downloads a temporary media file (<c>cgi-bin/media/get</c>): images users send are kept by WeChat for
    /// three days. Errors come back as JSON instead of the file; a token error refreshes the token once.
    /// </summary>
    public Task<MediaContent> DownloadMediaAsync(Uri baseUrl, OfficialAccountSettings account, string mediaId, long maxBytes, CancellationToken cancellationToken) =>
        WeChatApi.DownloadMediaAsync(_http.CreateClient(HttpClientName), _tokens, account.AppId, ct => FetchTokenAsync(baseUrl, account, ct), baseUrl, mediaId, maxBytes, cancellationToken);

    private Task CallAsync(Uri baseUrl, OfficialAccountSettings account, string path, object body, CancellationToken cancellationToken) =>
        WeChatApi.PostWithTokenAsync(_http.CreateClient(HttpClientName), _tokens, account.AppId, ct => FetchTokenAsync(baseUrl, account, ct), baseUrl, path, body, cancellationToken);

    private async Task<AccessToken> FetchTokenAsync(Uri baseUrl, OfficialAccountSettings account, CancellationToken cancellationToken)
    {
        // stable_token, not the classic token call: repeated calls return the same token, so several callers
        // (or instances) cannot knock each other's token out (protocols.md §1.8).
        var reply = await WeChatApi.PostAsync(_http.CreateClient(HttpClientName), new Uri(baseUrl, "cgi-bin/stable_token"), new { grant_type = "client_credential", appid = account.AppId, secret = account.AppSecret, force_refresh = false }, cancellationToken);
        if (reply.AccessToken is not { Length: > 0 } value)
        {
            throw new WeChatApiException(-1, "stable_token returned no access_token");
        }

        Log.TokenRefreshed(_logger, account.AppId, reply.ExpiresIn);
        return new AccessToken(value, _time.GetUtcNow().AddSeconds(reply.ExpiresIn > 0 ? reply.ExpiresIn : 7200));
    }

    private static partial class Log
    {
        [LoggerMessage(ChannelEventId.AccessTokenRefreshed, LogLevel.Information, "Refreshed the access_token of {AppId}; valid for {Seconds} s")]
        public static partial void TokenRefreshed(ILogger logger, string appId, int seconds);
    }
}
