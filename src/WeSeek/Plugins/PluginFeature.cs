using System.Globalization;
using System.Text;
using Microsoft.Extensions.AI;

namespace WeSeek.Plugins;

/// <summary>
/// What the turn's plugins contributed: passages for the prompt (the context step appends them to the user's
/// message as a 参考资料 block) and citation lines the composer appends to the answer.
/// </summary>
/// <param name="Passages">Passages, in plugin order, at most <c>Plugins:MaxPassages</c>.</param>
/// <param name="Citations">Distinct lines to end the answer with.</param>
public sealed record PluginFeature(IReadOnlyList<PluginPassage> Passages, IReadOnlyList<string> Citations)
{
    /// <summary>The 参考资料 block for the prompt, or an empty string when there are no passages.</summary>
    public string RenderReferences()
    {
        if (Passages.Count == 0)
        {
            return "";
        }

        var text = new StringBuilder("参考资料（回答时请优先依据以下内容，并说明出处）：");
        for (var i = 0; i < Passages.Count; i++)
        {
            text.Append(CultureInfo.InvariantCulture, $"\n[{i + 1}] （{Passages[i].Source}）{Passages[i].Text}");
        }

        return text.ToString();
    }

    /// <summary>The answer with the citation lines after it.</summary>
    public string AppendCitations(string answer) =>
        Citations.Count == 0 ? answer : answer.TrimEnd() + "\n\n" + string.Join('\n', Citations);
}

/// <summary>The tools of the plugins on in the turn's chat, for a model that calls tools natively.</summary>
/// <param name="Tools">The plugins' <see cref="IWeSeekPlugin.Tools"/>, in plugin order.</param>
public sealed record PluginToolsFeature(IReadOnlyList<AIFunction> Tools);
