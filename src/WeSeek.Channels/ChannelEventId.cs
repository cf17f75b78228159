namespace WeSeek.Channels;

/// <summary>
/// Log event ids of WeSeek.Channels, which cannot see the core's registry (<c>WeSeek.Logging.WeSeekEventId</c>
/// in src/WeSeek): that registry reserves 1100-1199 for the ids here. 1000-1099 stay the host's channel ids.
/// Next free id: 1107.
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
}
