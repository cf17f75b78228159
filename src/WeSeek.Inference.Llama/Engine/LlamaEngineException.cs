namespace WeSeek.Inference.Llama.Engine;

/// <summary>The engine could not serve a request; the message says which option to change.</summary>
public sealed class LlamaEngineException : WeSeek.Inference.EngineRequestException
{
    /// <summary>Creates the exception.</summary>
    public LlamaEngineException() { }

    /// <summary>Creates the exception.</summary>
    public LlamaEngineException(string message) : base(message) { }

    /// <summary>Creates the exception.</summary>
    public LlamaEngineException(string message, Exception innerException) : base(message, innerException) { }
}
