using System.Buffers.Binary;
using System.Globalization;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace WeSeek.Channels.ILink;

/// <summary>A logged-in bot: its token (a secret, never logged) and the API host the login named.</summary>
/// <param name="BotToken">Sent as <c>Authorization: Bearer</c>.</param>
/// <param name="BaseUrl">The API base URL.</param>
internal sealed record ILinkSession(string BotToken, Uri BaseUrl)
{
    /// <summary>Never prints the token.</summary>
    public override string ToString() => $"ILinkSession {{ BaseUrl = {BaseUrl} }}";
}

/// <summary>
/// The iLink bot API as published (Tencent/openclaw-weixin docs/protocol.md): QR-code login, the
/// <c>getupdates</c> long-poll, <c>sendmessage</c>, <c>getconfig</c> and <c>sendtyping</c>. JSON over HTTPS through
/// IHttpClientFactory (client <see cref="HttpClientName"/>); a non-zero <c>ret</c> or <c>errcode</c> becomes an
/// <see cref="ILinkApiException"/>, a transport failure stays an <see cref="HttpRequestException"/>. Stateless
/// and thread-safe.
/// </summary>
internal sealed class ILinkApiClient
{
    public const string HttpClientName = "WeSeek.ILink";

    private readonly IHttpClientFactory _http;
    private readonly TimeProvider _time;
    private readonly ILinkOptions _options;
    private readonly ILinkBaseInfo _baseInfo;
    private readonly string _clientVersion;

    public ILinkApiClient(IHttpClientFactory http, TimeProvider time, IOptions<ILinkOptions> options)
    {
        _http = http;
        _time = time;
        _options = options.Value;
        _baseInfo = new ILinkBaseInfo(_options.ChannelVersion, "WeSeek");
        _clientVersion = EncodeVersion(_options.ChannelVersion);
    }

    /// <summary><c>POST ilink/bot/get_bot_qrcode?bot_type=3</c>: a new login QR code. Unauthenticated.</summary>
    public async Task<ILinkQrCodeReply> GetQrCodeAsync(Uri baseUrl, IReadOnlyList<string> previousTokens, CancellationToken cancellationToken)
    {
        var reply = await PostAsync<ILinkQrCodeReply>(baseUrl, "ilink/bot/get_bot_qrcode?bot_type=3", null, new { local_token_list = previousTokens }, _options.RequestTimeout, cancellationToken);
        if (string.IsNullOrEmpty(reply.Qrcode) || string.IsNullOrEmpty(reply.QrcodeImgContent))
        {
            throw new ILinkApiException("get_bot_qrcode returned no QR code.");
        }

        return reply;
    }

    /// <summary><c>GET ilink/bot/get_qrcode_status</c>, a long-poll; a client-side timeout reads as <c>wait</c>.</summary>
    public async Task<ILinkQrStatusReply> GetQrStatusAsync(Uri baseUrl, string qrcode, CancellationToken cancellationToken)
    {
        using var timeout = new CancellationTokenSource(_options.LongPollTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(baseUrl, "ilink/bot/get_qrcode_status?qrcode=" + Uri.EscapeDataString(qrcode)));
        AddHeaders(request, null);
        try
        {
            return await SendAsync<ILinkQrStatusReply>(request, linked.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new ILinkQrStatusReply { Status = "wait" };
        }
    }

    /// <summary><c>POST ilink/bot/getupdates</c> with the cursor; the server holds it until messages arrive. A
    /// client-side timeout (<paramref name="timeout"/>) is normal long-poll flow: no messages, the same cursor.</summary>
    public async Task<ILinkUpdatesReply> GetUpdatesAsync(ILinkSession session, string cursor, TimeSpan timeout, CancellationToken cancellationToken)
    {
        try
        {
            return await PostAsync<ILinkUpdatesReply>(session.BaseUrl, "ilink/bot/getupdates", session.BotToken, new { get_updates_buf = cursor, base_info = _baseInfo }, timeout, cancellationToken);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new ILinkUpdatesReply { GetUpdatesBuf = cursor };
        }
    }

    /// <summary><c>POST ilink/bot/sendmessage</c>: one finished text message from the bot, echoing the chat's
    /// <c>context_token</c>; <paramref name="clientId"/> is the idempotency key of this message.</summary>
    public Task SendTextAsync(ILinkSession session, string toUserId, string? contextToken, string clientId, string text, CancellationToken cancellationToken) =>
        SendItemAsync(session, toUserId, contextToken, clientId, new ILinkItem { Type = ILinkItemType.Text, TextItem = new ILinkText { Text = text } }, cancellationToken);

    /// <summary><c>POST ilink/bot/sendmessage</c> with one item (text, or media uploaded through the CDN); one
    /// item per message, as Tencent's client sends them.</summary>
    public Task SendItemAsync(ILinkSession session, string toUserId, string? contextToken, string clientId, ILinkItem item, CancellationToken cancellationToken)
    {
        var message = new ILinkMessage
        {
            FromUserId = "",
            ToUserId = toUserId,
            ClientId = clientId,
            MessageType = 2,
            MessageState = 2,
            ContextToken = contextToken,
            ItemList = [item],
        };
        return PostAsync<ILinkReply>(session.BaseUrl, "ilink/bot/sendmessage", session.BotToken, new { msg = message, base_info = _baseInfo }, _options.RequestTimeout, cancellationToken);
    }

    /// <summary><c>POST ilink/bot/getuploadurl</c>: where to upload an encrypted file (no thumbnail).</summary>
    public async Task<ILinkUploadUrlReply> GetUploadUrlAsync(ILinkSession session, string fileKey, int mediaType, string toUserId, long rawSize, string rawMd5, long cipherSize, string aesKeyHex, CancellationToken cancellationToken)
    {
        var reply = await PostAsync<ILinkUploadUrlReply>(session.BaseUrl, "ilink/bot/getuploadurl", session.BotToken, new
        {
            filekey = fileKey,
            media_type = mediaType,
            to_user_id = toUserId,
            rawsize = rawSize,
            rawfilemd5 = rawMd5,
            filesize = cipherSize,
            no_need_thumb = true,
            aeskey = aesKeyHex,
            base_info = _baseInfo,
        }, _options.RequestTimeout, cancellationToken);
        if (string.IsNullOrEmpty(reply.UploadFullUrl) && string.IsNullOrEmpty(reply.UploadParam))
        {
            throw new ILinkApiException("getuploadurl returned neither upload_full_url nor upload_param.");
        }

        return reply;
    }

    /// <summary><c>POST ilink/bot/getconfig</c>: the typing ticket for a user (null when the server gives none).</summary>
    public async Task<string?> GetTypingTicketAsync(ILinkSession session, string userId, string? contextToken, CancellationToken cancellationToken)
    {
        var reply = await PostAsync<ILinkConfigReply>(session.BaseUrl, "ilink/bot/getconfig", session.BotToken, new { ilink_user_id = userId, context_token = contextToken, base_info = _baseInfo }, _options.RequestTimeout, cancellationToken);
        return string.IsNullOrEmpty(reply.TypingTicket) ? null : reply.TypingTicket;
    }

    /// <summary><c>POST ilink/bot/sendtyping</c>: status 1 typing (also the keep-alive), 2 cancel.</summary>
    public Task SendTypingAsync(ILinkSession session, string userId, string ticket, bool typing, CancellationToken cancellationToken) =>
        PostAsync<ILinkReply>(session.BaseUrl, "ilink/bot/sendtyping", session.BotToken, new { ilink_user_id = userId, typing_ticket = ticket, status = typing ? 1 : 2, base_info = _baseInfo }, _options.RequestTimeout, cancellationToken);

    private async Task<T> PostAsync<T>(Uri baseUrl, string path, string? token, object body, TimeSpan timeout, CancellationToken cancellationToken) where T : ILinkReply
    {
        // On the injected clock, like every other wait in WeSeek.
        using var timer = new CancellationTokenSource(timeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timer.Token);
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(baseUrl, path))
        {
            Content = JsonContent.Create(body, options: ILinkJson.Options),
        };
        AddHeaders(request, token);
        return await SendAsync<T>(request, linked.Token);
    }

    private async Task<T> SendAsync<T>(HttpRequestMessage request, CancellationToken cancellationToken) where T : ILinkReply
    {
        var client = _http.CreateClient(HttpClientName);
        using var response = await client.SendAsync(request, cancellationToken);
        response.EnsureSuccessStatusCode();
        var reply = await response.Content.ReadFromJsonAsync<T>(ILinkJson.Options, cancellationToken)
            ?? throw new ILinkApiException("iLink returned an empty body.");
        if (reply.Ret != 0 || reply.Errcode is { } code && code != 0)
        {
            throw new ILinkApiException(reply.Ret, reply.Errcode, reply.Errmsg);
        }

        return reply;
    }

    private void AddHeaders(HttpRequestMessage request, string? token)
    {
        request.Headers.TryAddWithoutValidation("AuthorizationType", "ilink_bot_token");
        if (token is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + token);
        }

        request.Headers.TryAddWithoutValidation("X-WECHAT-UIN", RandomUin());
        request.Headers.TryAddWithoutValidation("iLink-App-Id", "bot");
        request.Headers.TryAddWithoutValidation("iLink-App-ClientVersion", _clientVersion);
    }

    /// <summary><c>X-WECHAT-UIN</c>: base64 of the decimal text of a random uint32, fresh per request.</summary>
    internal static string RandomUin()
    {
        Span<byte> bytes = stackalloc byte[4];
        RandomNumberGenerator.Fill(bytes);
        var value = BinaryPrimitives.ReadUInt32LittleEndian(bytes);
        return Convert.ToBase64String(Encoding.ASCII.GetBytes(value.ToString(CultureInfo.InvariantCulture)));
    }

    /// <summary><c>iLink-App-ClientVersion</c>: M.N.P as 0x00MMNNPP, written in decimal.</summary>
    internal static string EncodeVersion(string version)
    {
        var parts = version.Split('.').Select(p => int.Parse(p, CultureInfo.InvariantCulture) & 0xFF).ToArray();
        return ((parts[0] << 16) | (parts[1] << 8) | parts[2]).ToString(CultureInfo.InvariantCulture);
    }
}
