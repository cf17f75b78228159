using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Http;
using WeSeek.Channels.WeChatCrypto;

namespace WeSeek.Channels.WeChat;

/// <summary>What both WeChat callbacks do before the protocol differs: bounded body reading and the replay
/// window. Static and allocation-light; the benchmark runs through here.</summary>
internal static class WeChatCallback
{
    private static readonly UTF8Encoding StrictUtf8 = new(false, throwOnInvalidBytes: true);

    /// <summary>Reads the body as UTF-8, at most <paramref name="maxBytes"/>. Null with the status to answer
    /// (413 too large, 400 not UTF-8) otherwise.</summary>
    public static async Task<(string? Body, int Status)> ReadBodyAsync(HttpRequest request, int maxBytes, CancellationToken cancellationToken)
    {
        if (request.ContentLength > maxBytes)
        {
            return (null, StatusCodes.Status413PayloadTooLarge);
        }

        var buffer = new byte[Math.Min(maxBytes + 1, (int?)request.ContentLength + 1 ?? maxBytes + 1)];
        var total = 0;
        while (total < buffer.Length)
        {
            var read = await request.Body.ReadAsync(buffer.AsMemory(total), cancellationToken);
            if (read == 0)
            {
                break;
            }

            total += read;
        }

        if (total > maxBytes)
        {
            return (null, StatusCodes.Status413PayloadTooLarge);
        }

        try
        {
            return (StrictUtf8.GetString(buffer, 0, total), StatusCodes.Status200OK);
        }
        catch (DecoderFallbackException)
        {
            return (null, StatusCodes.Status400BadRequest);
        }
    }

    /// <summary>True when <paramref name="timestamp"/> (Unix seconds) is within <paramref name="toleranceSeconds"/>
    /// of now; any well-formed value when the tolerance is 0 (check off).</summary>
    public static bool IsFresh(string? timestamp, int toleranceSeconds, DateTimeOffset now)
    {
        if (!long.TryParse(timestamp, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
        {
            return false;
        }

        return toleranceSeconds == 0 || Math.Abs(now.ToUnixTimeSeconds() - seconds) <= toleranceSeconds;
    }

    /// <summary>
    /// The status both callbacks answer a message that failed its cryptographic checks with, one rule on purpose:
    /// 403 when it is not from WeChat for this account (signature, receiveid), 400 when it is malformed (XML,
    /// padding, lengths). WeChat retries neither.
    /// </summary>
    public static int StatusOf(WeChatCryptoError error) =>
        error is WeChatCryptoError.InvalidSignature or WeChatCryptoError.InvalidReceiveId ? StatusCodes.Status403Forbidden : StatusCodes.Status400BadRequest;

    /// <summary>Unix seconds as WeChat writes them.</summary>
    public static string UnixSeconds(DateTimeOffset at) => at.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);

    /// <summary>A CDATA section that cannot be closed early by the text (split at <c>]]&gt;</c>).</summary>
    public static string Cdata(string text) => "<![CDATA[" + text.Replace("]]>", "]]]]><![CDATA[>", StringComparison.Ordinal) + "]]>";
}
