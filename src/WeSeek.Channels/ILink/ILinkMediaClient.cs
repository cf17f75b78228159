using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace WeSeek.Channels.ILink;

/// <summary>A file on iLink's CDN: the reference to put in a message, and its sizes.</summary>
/// <param name="Media">The download reference (<c>encrypt_query_param</c> and the key).</param>
/// <param name="PlainSize">Bytes before encryption.</param>
/// <param name="CipherSize">Bytes after AES-128-ECB with PKCS#7 padding.</param>
internal sealed record ILinkUploaded(ILinkCdnMedia Media, long PlainSize, long CipherSize);

/// <summary>
/// Images and files through iLink's CDN (protocol.md "CDN media flow"): every file is encrypted with its own
/// random AES-128 key in ECB mode with PKCS#7 padding; <c>getuploadurl</c> says where to <c>POST</c> the
/// ciphertext, the CDN answers the download parameter in <c>x-encrypted-param</c>, and the message carries
/// that parameter and the key. Downloads reverse it. Sizes are bounded by <see cref="ILinkOptions.MaxMediaBytes"/>.
/// Thread-safe.
/// </summary>
internal sealed class ILinkMediaClient
{
    private readonly IHttpClientFactory _http;
    private readonly ILinkApiClient _api;
    private readonly ILinkOptions _options;
    private readonly TimeProvider _time;

    public ILinkMediaClient(IHttpClientFactory http, ILinkApiClient api, IOptions<ILinkOptions> options, TimeProvider time)
    {
        _http = http;
        _api = api;
        _options = options.Value;
        _time = time;
    }

    /// <summary>Encrypts and uploads <paramref name="content"/> for <paramref name="toUserId"/>.</summary>
    public async Task<ILinkUploaded> UploadAsync(ILinkSession session, string toUserId, ReadOnlyMemory<byte> content, int mediaType, CancellationToken cancellationToken)
    {
        if (content.Length > _options.MaxMediaBytes)
        {
            throw new ILinkApiException($"The file has {content.Length} bytes; at most {_options.MaxMediaBytes} are sent (ILink:MaxMediaBytes).");
        }

        var key = RandomNumberGenerator.GetBytes(16);
        var keyHex = Convert.ToHexStringLower(key);
        var fileKey = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        var cipher = Encrypt(key, content.Span);
#pragma warning disable CA5351 // The protocol asks for the plaintext's MD5 (rawfilemd5), a checksum, not a protection.
        var md5 = Convert.ToHexStringLower(MD5.HashData(content.Span));
#pragma warning restore CA5351
        var target = await _api.GetUploadUrlAsync(session, fileKey, mediaType, toUserId, content.Length, md5, cipher.Length, keyHex, cancellationToken);
        var url = !string.IsNullOrEmpty(target.UploadFullUrl)
            ? new Uri(target.UploadFullUrl)
            : new Uri($"{Base()}upload?encrypted_query_param={Uri.EscapeDataString(target.UploadParam!)}&filekey={Uri.EscapeDataString(fileKey)}");

        using var timeout = new CancellationTokenSource(_options.RequestTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        using var body = new ByteArrayContent(cipher);
        body.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using var response = await _http.CreateClient(ILinkApiClient.HttpClientName).PostAsync(url, body, linked.Token);
        response.EnsureSuccessStatusCode();
        if (!response.Headers.TryGetValues("x-encrypted-param", out var values) || values.FirstOrDefault() is not { Length: > 0 } download)
        {
            throw new ILinkApiException("The CDN answered the upload without x-encrypted-param.");
        }

        // The key as Tencent's client sends it: base64 of its hex text.
        var media = new ILinkCdnMedia { EncryptQueryParam = download, AesKey = Convert.ToBase64String(Encoding.ASCII.GetBytes(keyHex)), EncryptType = 1 };
        return new ILinkUploaded(media, content.Length, cipher.Length);
    }

    /// <summary>Downloads and decrypts the file <paramref name="media"/> names.</summary>
    public async Task<byte[]> DownloadAsync(ILinkCdnMedia media, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(media);
        var key = DecodeKey(media.AesKey);
        var url = !string.IsNullOrEmpty(media.FullUrl)
            ? new Uri(media.FullUrl)
            : new Uri($"{Base()}download?encrypted_query_param={Uri.EscapeDataString(media.EncryptQueryParam ?? throw new ILinkApiException("The media reference has no encrypt_query_param."))}");
        using var timeout = new CancellationTokenSource(_options.RequestTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        using var response = await _http.CreateClient(ILinkApiClient.HttpClientName).GetAsync(url, HttpCompletionOption.ResponseHeadersRead, linked.Token);
        response.EnsureSuccessStatusCode();
        var limit = _options.MaxMediaBytes + 16;
        if (response.Content.Headers.ContentLength > limit)
        {
            throw new ILinkApiException($"The file has {response.Content.Headers.ContentLength} bytes; at most {_options.MaxMediaBytes} are fetched (ILink:MaxMediaBytes).");
        }

        await using var stream = await response.Content.ReadAsStreamAsync(linked.Token);
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await stream.ReadAsync(chunk, linked.Token)) > 0)
        {
            if (buffer.Length + read > limit)
            {
                throw new ILinkApiException($"The file is larger than ILink:MaxMediaBytes ({_options.MaxMediaBytes} bytes).");
            }

            buffer.Write(chunk, 0, read);
        }

        return Decrypt(key, buffer.ToArray());
    }

    /// <summary>AES-128-ECB with PKCS#7 padding: ciphertext is the length rounded up to the next 16 bytes
    /// (a whole block more when already aligned).</summary>
    internal static byte[] Encrypt(byte[] key, ReadOnlySpan<byte> plain)
    {
        using var aes = Aes.Create();
        aes.Key = key;
        return aes.EncryptEcb(plain, PaddingMode.PKCS7);
    }

    internal static byte[] Decrypt(byte[] key, byte[] cipher)
    {
        using var aes = Aes.Create();
        aes.Key = key;
        try
        {
            return aes.DecryptEcb(cipher, PaddingMode.PKCS7);
        }
        catch (CryptographicException ex)
        {
            throw new ILinkApiException("The media did not decrypt with its key (bad padding).", ex);
        }
    }

    /// <summary>The 16-byte key from <c>aes_key</c>: base64 of the raw bytes, or of their 32 hex characters.</summary>
    internal static byte[] DecodeKey(string? aesKey)
    {
        byte[] decoded;
        try
        {
            decoded = Convert.FromBase64String(aesKey ?? "");
        }
        catch (FormatException ex)
        {
            throw new ILinkApiException("The media's aes_key is not base64.", ex);
        }

        if (decoded.Length == 16)
        {
            return decoded;
        }

        if (decoded.Length == 32 && decoded.All(b => Uri.IsHexDigit((char)b)))
        {
            return Convert.FromHexString(Encoding.ASCII.GetString(decoded));
        }

        throw new ILinkApiException($"The media's aes_key decodes to {decoded.Length} bytes, neither a 16-byte key nor its hex text.");
    }

    private string Base() => _options.CdnBaseUrl.AbsoluteUri.EndsWith('/') ? _options.CdnBaseUrl.AbsoluteUri : _options.CdnBaseUrl.AbsoluteUri + "/";
}
