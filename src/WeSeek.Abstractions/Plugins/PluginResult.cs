namespace WeSeek.Plugins;

/// <summary>A passage of reference text a plugin puts into the model's prompt.</summary>
/// <param name="Text">The passage, as it goes into the prompt.</param>
/// <param name="Source">Where it comes from (a file name, a URL), shown to the model beside the passage.</param>
public sealed record PluginPassage(string Text, string Source);

/// <summary>
/// What a plugin contributes to a turn: passages for the model's prompt and the source lines the answer should
/// end with, or a direct answer sent instead of asking the model. Immutable.
/// </summary>
public sealed record PluginResult
{
    /// <summary>Nothing to contribute.</summary>
    public static PluginResult Nothing { get; } = new();

    /// <summary>Passages put into the prompt as a 参考资料 block after the user's message.</summary>
    public IReadOnlyList<PluginPassage> Passages { get; init; } = [];

    /// <summary>Lines appended to the model's answer (for example <c>来源：手册.md</c>), in order, without duplicates.</summary>
    public IReadOnlyList<string> Citations { get; init; } = [];

    /// <summary>A direct answer: sent as the reply without calling the model. The first plugin (in
    /// registration order) with one wins.</summary>
    public string? Answer { get; init; }

    /// <summary>Passages, and the citation lines to end the answer with.</summary>
    public static PluginResult Context(IReadOnlyList<PluginPassage> passages, IReadOnlyList<string>? citations = null) =>
        new() { Passages = passages, Citations = citations ?? [] };

    /// <summary>A direct answer.</summary>
    public static PluginResult Reply(string answer) => new() { Answer = answer };
}
