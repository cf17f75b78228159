namespace WeSeek.Operations;

/// <summary>
/// Things the operator must know while the bot runs (a model with random weights, a channel that needs a
/// new QR scan), shown by the surfaces an operator looks at: the log, the web page. Thread-safe.
/// </summary>
public interface IOperatorNotices
{
    /// <summary>The notices in force, oldest first.</summary>
    IReadOnlyList<string> Current { get; }

    /// <summary>Adds a notice (once: an equal notice is not added twice).</summary>
    void Add(string notice);
}
