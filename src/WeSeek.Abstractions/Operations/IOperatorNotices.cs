namespace WeSeek.Operations;

/// <summary>
/// Things the operator must know while the bot runs (a model with random weights, a channel that needs a
/// new QR scan), shown by the surfaces an operator looks at: the log, the console. The public web chat shows only
/// those added for visitors (<see cref="AddForVisitors"/>): a notice about a WeChat account names the account and
/// the commands to run on the server, which are the operator's business, not a visitor's. Thread-safe.
/// </summary>
public interface IOperatorNotices
{
    /// <summary>The notices in force, oldest first.</summary>
    IReadOnlyList<string> Current { get; }

    /// <summary>Adds a notice for the operator only (once: an equal notice is not added twice).</summary>
    void Add(string notice);

    /// <summary>The notices visitors of the public web chat may see too, oldest first; none unless an implementation keeps them.</summary>
    IReadOnlyList<string> ForVisitors => [];

    /// <summary>Adds a notice that visitors see as well as the operator: it must say nothing a visitor should not
    /// read (no account names, addresses or settings' values).</summary>
    void AddForVisitors(string notice) => Add(notice);
}
