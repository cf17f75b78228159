using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;
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

    private static readonly JsonSerializerOptions Json = new()
    {
        // Raw UTF-8 for Chinese text, not \uXXXX escapes (WeChat's 40033 "不合法的请求字符").
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

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
    public async Task<MediaContent> DownloadMediaAsync(Uri baseUrl, OfficialAccountSettings account, string mediaId, long maxBytes, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            var token = await _tokens.GetAsync(account.AppId, ct => FetchTokenAsync(baseUrl, account, ct), cancellationToken);
            var client = _http.CreateClient(HttpClientName);
            var url = new Uri(baseUrl, $"cgi-bin/media/get?access_token={Uri.EscapeDataString(token)}&media_id={Uri.EscapeDataString(mediaId)}");
            using var response = await client.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            response.EnsureSuccessStatusCode();
            var mediaType = response.Content.Headers.ContentType?.MediaType ?? "application/octet-stream";
            if (response.Content.Headers.ContentLength > maxBytes)
            {
                throw new MediaUnavailableException($"The media is {response.Content.Headers.ContentLength} bytes, over the {maxBytes}-byte limit (Media:MaxBytes).");
            }

            var data = await ReadCappedAsync(response.Content, maxBytes, cancellationToken);
            if (mediaType is "application/json" or "text/plain")
            {
                var reply = JsonSerializer.Deserialize<ApiReply>(data.Span) ?? new ApiReply();
                var error = new WeChatApiException(reply.ErrCode, reply.ErrMsg);
                if (error.IsTokenError && attempt == 0)
                {
                    _tokens.Invalidate(account.AppId, token);
                    continue;
                }

                throw new MediaUnavailableException($"WeChat did not give media {mediaId}: {error.Message}", error);
            }

            return new MediaContent(data, mediaType);
        }
    }

    private static async Task<ReadOnlyMemory<byte>> ReadCappedAsync(HttpContent content, long maxBytes, CancellationToken cancellationToken)
    {
        await using var stream = await content.ReadAsStreamAsync(cancellationToken);
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await stream.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > maxBytes)
            {
                throw new MediaUnavailableException($"The media is over the {maxBytes}-byte limit (Media:MaxBytes).");
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }

    private async Task CallAsync(Uri baseUrl, OfficialAccountSettings account, string path, object body, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            var token = await _tokens.GetAsync(account.AppId, ct => FetchTokenAsync(baseUrl, account, ct), cancellationToken);
            try
            {
                await PostAsync(new Uri(baseUrl, $"{path}?access_token={Uri.EscapeDataString(token)}"), body, cancellationToken);
                return;
            }
            catch (WeChatApiException ex) when (ex.IsTokenError && attempt == 0)
            {
                _tokens.Invalidate(account.AppId, token);
            }
        }
    }

    private async Task<AccessToken> FetchTokenAsync(Uri baseUrl, OfficialAccountSettings account, CancellationToken cancellationToken)
    {
        // stable_token, not the classic token call: repeated calls return the same token, so several callers
        // (or instances) cannot knock each other's token out (protocols.md §1.8).
        var reply = await PostAsync(new Uri(baseUrl, "cgi-bin/stable_token"), new { grant_type = "client_credential", appid = account.AppId, secret = account.AppSecret, force_refresh = false }, cancellationToken);
        if (reply.AccessToken is not { Length: > 0 } value)
        {
            throw new WeChatApiException(-1, "stable_token returned no access_token");
        }

        Log.TokenRefreshed(_logger, account.AppId, reply.ExpiresIn);
        return new AccessToken(value, _time.GetUtcNow().AddSeconds(reply.ExpiresIn > 0 ? reply.ExpiresIn : 7200));
    }

    private async Task<ApiReply> PostAsync(Uri url, object body, CancellationToken cancellationToken)
    {
        var client = _http.CreateClient(HttpClientName);
        using var response = await client.PostAsJsonAsync(url, body, Json, cancellationToken);
        response.EnsureSuccessStatusCode();
        var reply = await response.Content.ReadFromJsonAsync<ApiReply>(cancellationToken) ?? new ApiReply();
        if (reply.ErrCode != 0)
        {
            throw new WeChatApiException(reply.ErrCode, reply.ErrMsg);
        }

        return reply;
    }

    internal sealed class ApiReply
    {
        [JsonPropertyName("errcode")]
        public int ErrCode { get; set; }

        [JsonPropertyName("errmsg")]
        public string? ErrMsg { get; set; }

        [JsonPropertyName("access_token")]
        public string? AccessToken { get; set; }

        [JsonPropertyName("expires_in")]
        public int ExpiresIn { get; set; }
    }

    private static partial class Log
    {
        [LoggerMessage(ChannelEventId.AccessTokenRefreshed, LogLevel.Information, "Refreshed the access_token of {AppId}; valid for {Seconds} s")]
        public static partial void TokenRefreshed(ILogger logger, string appId, int seconds);
    }
}
