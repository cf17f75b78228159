using System.Text.Json;
using System.Text.Json.Serialization;

namespace WeSeek.Channels.ILink;

// The JSON shapes of the iLink bot API, from Tencent/openclaw-weixin docs/protocol.md. Every field is
// optional on the wire; absent means default. Names are snake_case.

internal static class ILinkJson
{
    public static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        // Raw UTF-8 for Chinese text rather than \uXXXX escapes.
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        NumberHandling = JsonNumberHandling.AllowReadingFromString,
    };
}

/// <summary><c>base_info</c>, sent with every authenticated POST.</summary>
internal sealed record ILinkBaseInfo(string ChannelVersion, string BotAgent);

/// <summary>The fields every response may carry: <c>ret</c> 0 is success; <c>errcode</c>/<c>errmsg</c> explain a failure.</summary>
internal class ILinkReply
{
    public int Ret { get; set; }

    public int? Errcode { get; set; }

    public string? Errmsg { get; set; }
}

internal sealed class ILinkQrCodeReply : ILinkReply
{
    public string? Qrcode { get; set; }

    public string? QrcodeImgContent { get; set; }
}

internal sealed class ILinkQrStatusReply : ILinkReply
{
    public string? Status { get; set; }

    public string? BotToken { get; set; }

    public string? IlinkBotId { get; set; }

    public string? Baseurl { get; set; }

    public string? IlinkUserId { get; set; }

    public string? RedirectHost { get; set; }
}

internal sealed class ILinkUpdatesReply : ILinkReply
{
    public List<ILinkMessage>? Msgs { get; set; }

    public string? GetUpdatesBuf { get; set; }

    public long? LongpollingTimeoutMs { get; set; }
}

internal sealed class ILinkConfigReply : ILinkReply
{
    public string? TypingTicket { get; set; }
}

/// <summary><c>WeixinMessage</c>: one message, inbound from <c>getupdates</c> or outbound in <c>sendmessage</c>.</summary>
internal sealed class ILinkMessage
{
    public long? Seq { get; set; }

    public long? MessageId { get; set; }

    public string? FromUserId { get; set; }

    public string? ToUserId { get; set; }

    public string? ClientId { get; set; }

    public long? CreateTimeMs { get; set; }

    public string? SessionId { get; set; }

    public string? GroupId { get; set; }

    /// <summary>1 user, 2 bot.</summary>
    public int? MessageType { get; set; }

    /// <summary>0 new, 1 generating, 2 finished.</summary>
    public int? MessageState { get; set; }

    public List<ILinkItem>? ItemList { get; set; }

    public string? ContextToken { get; set; }
}

/// <summary><c>MessageItem</c>: type 1 text, 2 image, 3 voice, 4 file, 5 video.</summary>
internal sealed class ILinkItem
{
    public int Type { get; set; }

    public ILinkText? TextItem { get; set; }

    public ILinkImage? ImageItem { get; set; }

    public ILinkVoice? VoiceItem { get; set; }

    public ILinkFile? FileItem { get; set; }

    public JsonElement? VideoItem { get; set; }
}

internal sealed class ILinkText
{
    public string? Text { get; set; }
}

internal sealed class ILinkVoice
{
    /// <summary>WeChat's own transcript of the voice message, when it made one.</summary>
    public string? Text { get; set; }
}

internal sealed class ILinkFile
{
    public ILinkCdnMedia? Media { get; set; }

    public string? FileName { get; set; }

    /// <summary>The plaintext size, as a decimal string.</summary>
    public string? Len { get; set; }
}

internal sealed class ILinkImage
{
    public ILinkCdnMedia? Media { get; set; }

    /// <summary>The ciphertext size of the image.</summary>
    public long? MidSize { get; set; }
}

/// <summary>A CDN media reference: where to download it and the AES-128 key, base64 of either the 16 raw
/// bytes or their 32-character hex text.</summary>
internal sealed class ILinkCdnMedia
{
    public string? EncryptQueryParam { get; set; }

    public string? AesKey { get; set; }

    public int? EncryptType { get; set; }

    public string? FullUrl { get; set; }
}

internal sealed class ILinkUploadUrlReply : ILinkReply
{
    public string? UploadParam { get; set; }

    public string? ThumbUploadParam { get; set; }

    public string? UploadFullUrl { get; set; }
}

/// <summary><c>media_type</c> of <c>getuploadurl</c>.</summary>
internal static class ILinkMediaType
{
    public const int Image = 1;
    public const int Video = 2;
    public const int File = 3;
    public const int Voice = 4;
}

/// <summary>Item types of <see cref="ILinkItem.Type"/>.</summary>
internal static class ILinkItemType
{
    public const int Text = 1;
    public const int Image = 2;
    public const int Voice = 3;
    public const int File = 4;
    public const int Video = 5;
}
