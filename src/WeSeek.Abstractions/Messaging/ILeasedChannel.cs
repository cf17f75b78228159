namespace WeSeek.Messaging;

/// <summary>
/// A channel that sends through a connection only one instance holds at a time, under an
/// <see cref="IChannelLease"/> (a OneBot forward WebSocket). The outbox sender of an instance that does not hold
/// the lease leaves the channel's messages alone, unclaimed and uncounted, for the instance that does, instead
/// of failing them. Channels that can send from any instance do not implement it.
/// </summary>
public interface ILeasedChannel
{
    /// <summary>True while this instance holds the channel's lease (or needs none): its sends may go from here.</summary>
    bool HoldsLease { get; }
}
