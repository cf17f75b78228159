namespace WeSeek.Channels;

/// <summary>Health checks of channels' connections to their platforms, served at <c>/health/channels</c>; kept
/// out of readiness, since a platform being away is not a reason to take WeSeek out of service.</summary>
public static class ChannelHealth
{
    /// <summary>The tag every channel's health check carries.</summary>
    public const string Tag = "channel";
}
