using System.Globalization;
using System.Net.Http.Json;
using Microsoft.Extensions.Logging;
using WeSeek.Channels.WeChat;
using WeSeek.Messaging;

namespace WeSeek.Channels.WeCom;

/// <summary>
/// The 企业微信 API calls WeSeek makes: <c>gettoken</c>, <c>message/send</c> and <c>media/get</c>, through IHttpClientFactory
/// (client <see cref="HttpClientName"/>). The token is cached per CorpID and AgentId (each app has its own
/// secret, hence its own token); a send refused for its token (40001/40014/42001) refreshes it and is retried
/// once. Thread-safe.
/// </summary>
internal sealed partial class WeComApiClient
{
    public const string HttpClientName = "WeSeek.WeCom";

    private readonly IHttpClientFactory _http;
    private readonly IAccessTokenCache _tokens;
    private readonly TimeProvider _time;
    private readonly ILogger<WeComApiClient> _logger;

    public WeComApiClient(IHttpClientFactory http, IAccessTokenCache tokens, TimeProvider time, ILogger<WeComApiClient> logger)
    {
        _http = http;
        _tokens = tokens;
        _time = time;
        _logger = logger;
    }

    /// <summary>The cache key of an app's token. Prefixed so that it cannot meet a 公众号 AppID.</summary>
    public static string TokenKey(WeComAppSettings app) => $"wecom:{app.CorpId}:{app.AgentId.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>Sends a text message to one member (<c>touser</c> is a UserID), with WeCom's duplicate check over
    /// <paramref name="duplicateCheckSeconds"/> seconds (0: off).</summary>
    public async Task SendTextAsync(Uri baseUrl, WeComAppSettings app, string userId, string text, int duplicateCheckSeconds, CancellationToken cancellationToken)
    {
        var body = new Dictionary<string, object>
        {
            ["touser"] = userId,
            ["msgtype"] = "text",
            ["agentid"] = app.AgentId,
            ["text"] = new { content = text },
            ["safe"] = 0,
            ["enable_duplicate_check"] = duplicateCheckSeconds > 0 ? 1 : 0,
        };
        if (duplicateCheckSeconds > 0)
        {
            body["duplicate_check_interval"] = duplicateCheckSeconds;
        }

        await WeChatApi.PostWithTokenAsync(
            _http.CreateClient(HttpClientName), _tokens, TokenKey(app), ct => FetchTokenAsync(baseUrl, app, ct), baseUrl, "cgi-bin/message/send", body, cancellationToken);
    }

    /// <summary>Downloads a temporary media file (<c>cgi-bin/media/get</c>, the 公众号's path and errors; WeCom
    /// keeps what members send for three days).</summary>
    public Task<MediaContent> DownloadMediaAsync(Uri baseUrl, WeComAppSettings app, string mediaId, long maxBytes, CancellationToken cancellationToken) =>
        WeChatApi.DownloadMediaAsync(_http.CreateClient(HttpClientName), _tokens, TokenKey(app), ct => FetchTokenAsync(baseUrl, app, ct), baseUrl, mediaId, maxBytes, cancellationToken);

    private async Task<AccessToken> FetchTokenAsync(Uri baseUrl, WeComAppSettings app, CancellationToken cancellationToken)
    {
        var client = _http.CreateClient(HttpClientName);
        var url = new Uri(baseUrl, $"cgi-bin/gettoken?corpid={Uri.EscapeDataString(app.CorpId)}&corpsecret={Uri.EscapeDataString(app.CorpSecret)}");
        using var response = await client.GetAsync(url, cancellationToken);
        response.EnsureSuccessStatusCode();
        var reply = await response.Content.ReadFromJsonAsync<WeChatApiReply>(cancellationToken) ?? new WeChatApiReply();
        if (reply.ErrCode != 0)
        {
            // 40001 here is a wrong secret (WeCom's meaning), not a stale token: it is thrown outside the send's
            // token retry, so it is reported and backed off, never looped on.
            Log.TokenFailed(_logger, app.CorpId, app.AgentId, reply.ErrCode);
            throw new WeChatApiException(reply.ErrCode, "gettoken: " + reply.ErrMsg);
        }

        if (reply.AccessToken is not { Length: > 0 } value)
        {
            throw new WeChatApiException(-1, "gettoken returned no access_token");
        }

        Log.TokenRefreshed(_logger, app.CorpId, app.AgentId, reply.ExpiresIn);
        return new AccessToken(value, _time.GetUtcNow().AddSeconds(reply.ExpiresIn > 0 ? reply.ExpiresIn : 7200));
    }

    private static partial class Log
    {
        [LoggerMessage(ChannelEventId.WeComTokenRefreshed, LogLevel.Information, "Refreshed the WeCom access_token of {CorpId} app {AgentId}; valid for {Seconds} s")]
        public static partial void TokenRefreshed(ILogger logger, string corpId, int agentId, int seconds);

        [LoggerMessage(ChannelEventId.WeComTokenFailed, LogLevel.Error, "WeCom gettoken for {CorpId} app {AgentId} failed with errcode {ErrorCode} (check CorpId, CorpSecret and 企业可信IP)")]
        public static partial void TokenFailed(ILogger logger, string corpId, int agentId, int errorCode);
    }
}
