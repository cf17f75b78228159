namespace WeSeek.Channels;

/// <summary>
/// Log event ids of WeSeek.Channels, which cannot see the core's registry (<c>WeSeek.Logging.WeSeekEventId</c>
/// in src/WeSeek): that registry reserves 1100-1199 for the ids here. 1000-1099 stay the host's channel ids.
/// Next free id: 1109. 1150-1199 are 企业微信's (WeCom/; next free 1156). 1200-1299 are the OneBot 12 channel's
/// (next free 1217). 1300-1399 are the iLink channel's (next free 1320).
/// </summary>
internal static class ChannelEventId
{
    // 1100, 1101, 1105 and 1106: the WeChat callback of both 公众号 and 企业微信 (WeChat/WeChatCallbackEndpoint.cs).
    public const int CallbackRejected = 1100;
    public const int PassiveReply = 1101;
    public const int AccessTokenRefreshed = 1102;
    public const int AccessTokenRefreshFailed = 1103;
    public const int ApiSendFailed = 1104;
    public const int TypingRefused = 1149;
    public const int PendingReplyPlaceholder = 1105;
    public const int CallbackStored = 1106;
    public const int WebChatLoginRefused = 1107;
    public const int WebChatLoginLimited = 1108;

    // 1300-1399: the iLink channel (personal WeChat).
    public const int ILinkNotLoggedIn = 1300;
    public const int ILinkWaitingForLease = 1301;
    public const int ILinkLeaseAcquired = 1302;
    public const int ILinkLeaseLost = 1303;
    public const int ILinkSessionExpired = 1304;
    public const int ILinkRateLimited = 1305;
    public const int ILinkPollRetry = 1306;
    public const int ILinkPollFailed = 1307;
    public const int ILinkStored = 1308;
    public const int ILinkRefused = 1309;
    public const int ILinkOverBudget = 1310;
    public const int ILinkSendFailed = 1311;
    public const int ILinkTypingFailed = 1312;
    public const int ILinkQrCode = 1313;
    public const int ILinkQrStatus = 1314;
    public const int ILinkLoggedIn = 1315;
    public const int ILinkLoginFailed = 1316;
    public const int ILinkWebLoginFailed = 1317;
    public const int ILinkLoginChanged = 1318;
    public const int ILinkBackupActive = 1319;

    // 企业微信 (1150-1199). 1150-1152 were its callback's rejected, stored and passive-reply events, now the
    // shared callback's (CallbackRejected, CallbackStored, PassiveReply, with the channel as a field); not reused.
    public const int WeComSendFailed = 1153;
    public const int WeComTokenRefreshed = 1154;
    public const int WeComTokenFailed = 1155;

    // 1200-1299: the OneBot 12 channel.
    public const int OneBotConnected = 1200;
    public const int OneBotDisconnected = 1201;
    public const int OneBotMetaConnect = 1202;
    public const int OneBotHeartbeatLost = 1203;
    public const int OneBotIgnored = 1204;
    public const int OneBotStored = 1205;
    public const int OneBotRefused = 1206;
    public const int OneBotSendFailed = 1207;
    public const int OneBotConnectFailed = 1208;
    public const int OneBotRejected = 1209;
    public const int OneBotGroupNotAllowed = 1210;
    public const int OneBotSelfInfo = 1211;
    public const int OneBotActionFailed = 1212;
    public const int OneBotStatusUpdate = 1213;
    public const int OneBotWaitingForLease = 1214;
    public const int OneBotLeaseAcquired = 1215;
    public const int OneBotLeaseLost = 1216;
}
