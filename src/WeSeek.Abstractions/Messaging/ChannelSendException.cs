namespace WeSeek.Messaging;

/// <summary>A send failed. <see cref="IsPermanent"/> tells the outbox not to retry (blocked user, bad
/// request); anything else is retried with backoff.</summary>
public sealed class ChannelSendException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ChannelSendException(string message, bool isPermanent, Exception? innerException = null)
        : base(message, innerException) => IsPermanent = isPermanent;

    /// <summary>Creates a transient failure.</summary>
    public ChannelSendException() : this("Send failed.", isPermanent: false) { }

    /// <summary>Creates a transient failure.</summary>
    public ChannelSendException(string message) : this(message, isPermanent: false) { }

    /// <summary>Creates a transient failure.</summary>
    public ChannelSendException(string message, Exception innerException) : this(message, false, innerException) { }

    /// <summary>True when retrying cannot help.</summary>
    public bool IsPermanent { get; }
}
