using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;
using WeSeek.Messaging;

namespace WeSeek.Channels.WeChat;

/// <summary>What the 公众号 and 企业微信 APIs share: JSON calls with errcode/errmsg replies, the retry once with
/// a fresh access token, and <c>cgi-bin/media/get</c>, which both serve at the same path with the same errors.
/// Static and thread-safe.</summary>
internal static class WeChatApi
{
    private static readonly JsonSerializerOptions Json = new()
    {
        // Raw UTF-8 for Chinese text, not \uXXXX escapes (WeChat's 40033 "不合法的请求字符").
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>POSTs <paramref name="body"/> as JSON; throws <see cref="WeChatApiException"/> for a non-zero errcode.</summary>
    public static async Task<WeChatApiReply> PostAsync(HttpClient client, Uri url, object body, CancellationToken cancellationToken)
    {
        using var response = await client.PostAsJsonAsync(url, body, Json, cancellationToken);
        response.EnsureSuccessStatusCode();
        var reply = await response.Content.ReadFromJsonAsync<WeChatApiReply>(cancellationToken) ?? new WeChatApiReply();
        if (reply.ErrCode != 0)
        {
            throw new WeChatApiException(reply.ErrCode, reply.ErrMsg);
        }

        return reply;
    }

    /// <summary>
    /// POSTs to <paramref name="path"/> with the access token from <paramref name="tokens"/>; a call refused for
    /// its token (40001/40014/42001) invalidates that token and is retried once with a fresh one.
    /// </summary>
    public static async Task PostWithTokenAsync(
        HttpClient client, IAccessTokenCache tokens, string tokenKey, Func<CancellationToken, Task<AccessToken>> refresh,
        Uri baseUrl, string path, object body, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            var token = await tokens.GetAsync(tokenKey, refresh, cancellationToken);
            try
            {
                await PostAsync(client, new Uri(baseUrl, $"{path}?access_token={Uri.EscapeDataString(token)}"), body, cancellationToken);
                return;
            }
            catch (WeChatApiException ex) when (ex.IsTokenError && attempt == 0)
            {
                tokens.Invalidate(tokenKey, token);
            }
        }
    }

    /// <summary>
    /// Downloads a temporary media file (<c>cgi-bin/media/get</c>) at most <paramref name="maxBytes"/> long.
    /// Errors come back as JSON instead of the file; a token error invalidates the token in
    /// <paramref name="tokens"/> under <paramref name="tokenKey"/> and is retried once with a fresh one.
    /// </summary>
    public static async Task<MediaContent> DownloadMediaAsync(
        HttpClient client, IAccessTokenCache tokens, string tokenKey, Func<CancellationToken, Task<AccessToken>> refresh,
        Uri baseUrl, string mediaId, long maxBytes, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            var token = await tokens.GetAsync(tokenKey, refresh, cancellationToken);
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
                var reply = JsonSerializer.Deserialize<WeChatApiReply>(data.Span) ?? new WeChatApiReply();
                var error = new WeChatApiException(reply.ErrCode, reply.ErrMsg);
                if (error.IsTokenError && attempt == 0)
                {
                    tokens.Invalidate(tokenKey, token);
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
}

/// <summary>The JSON every WeChat API call answers: <c>errcode</c>/<c>errmsg</c>, and for token calls
/// <c>access_token</c>/<c>expires_in</c>.</summary>
internal sealed class WeChatApiReply
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
