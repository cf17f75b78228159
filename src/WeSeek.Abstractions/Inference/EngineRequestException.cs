namespace WeSeek.Inference;

/// <summary>
/// An engine refused a request for a reason the caller can act on (too long, busy); the message names the
/// option to change. Servers map it to 400, or 429 when <see cref="IsBusy"/>.
/// </summary>
public class EngineRequestException : Exception
{
    /// <summary>Creates the exception.</summary>
    public EngineRequestException() { }

    /// <summary>Creates the exception.</summary>
    public EngineRequestException(string message) : base(message) { }

    /// <summary>Creates the exception.</summary>
    public EngineRequestException(string message, Exception innerException) : base(message, innerException) { }

    /// <summary>True when the engine is full right now and a later retry may succeed.</summary>
    public bool IsBusy { get; init; }
}
