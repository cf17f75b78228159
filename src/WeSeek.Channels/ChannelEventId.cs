namespace WeSeek.Channels;

/// <summary>
/// Log event ids of WeSeek.Channels, which cannot see the core's registry (<c>WeSeek.Logging.WeSeekEventId</c>
/// in src/WeSeek): that registry reserves 1100-1199 for the ids here. 1000-1099 stay the host's channel ids.
/// Next free id: 1107.
/// 1150-1199: 企业微信 (WeCom/); next free 1156.
/// </summary>
internal static class ChannelEventId
{
    public const int CallbackRejected = 1100;
    public const int PassiveReply = 1101;
    public const int AccessTokenRefreshed = 1102;
    public const int AccessTokenRefreshFailed = 1103;
    public const int ApiSendFailed = 1104;
    public const int PendingReplyPlaceholder = 1105;
    public const int CallbackStored = 1106;

    // 企业微信 (1150-1199)
    public const int WeComCallbackRejected = 1150;
    public const int WeComCallbackStored = 1151;
    public const int WeComPassiveReply = 1152;
    public const int WeComSendFailed = 1153;
    public const int WeComTokenRefreshed = 1154;
    public const int WeComTokenFailed = 1155;
}
