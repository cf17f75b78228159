namespace WeSeek.Inference.Reasoning;

/// <summary>Where a DeepSeek-R1 output starts, relative to its <c>&lt;think&gt;</c> block.</summary>
public enum ThinkStart
{
    /// <summary>
    /// Undecided: if the first non-whitespace characters are <c>&lt;think&gt;</c> the output reasons until
    /// <c>&lt;/think&gt;</c>, otherwise it is all answer (a server that splits reasoning itself, or a model
    /// that skipped thinking).
    /// </summary>
    Detect,

    /// <summary>
    /// Inside the block: the prompt ended with <c>&lt;｜Assistant｜&gt;&lt;think&gt;\n</c> (the current R1
    /// template), so the output is reasoning until <c>&lt;/think&gt;</c>. An opening tag at the very start is
    /// dropped.
    /// </summary>
    Open,
}
