using Microsoft.Extensions.Options;
using WeSeek.Plugins;

namespace WeSeek.Knowledge;

/// <summary>
/// Plugin <c>kb</c>: the knowledge base's best passages for the message go into the prompt with their sources,
/// and the answer ends with one 「来源：…」 line per source used.
/// </summary>
internal sealed class KnowledgeBasePlugin : IWeSeekPlugin
{
    private readonly KnowledgeIndex _index;
    private readonly KnowledgeOptions _options;

    public KnowledgeBasePlugin(KnowledgeIndex index, IOptions<KnowledgeOptions> options)
    {
        _index = index;
        _options = options.Value;
    }

    public string Name => "kb";

    public string Description => "知识库：从导入的文档中查找资料，回答时注明来源";

    public Task<PluginResult?> TryHandleAsync(PluginContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var hits = Select(_index.Search(context.Text, _options.TopK), _options.RelativeScore);
        if (hits.Count == 0)
        {
            return Task.FromResult<PluginResult?>(null);
        }

        var passages = hits.Select(h => new PluginPassage(h.Heading.Length > 0 ? $"{h.Heading}：{h.Text}" : h.Text, h.Source)).ToList();
        var citations = hits.Select(h => $"来源：{h.Source}").Distinct(StringComparer.Ordinal).ToList();
        return Task.FromResult<PluginResult?>(PluginResult.Context(passages, citations));
    }

    /// <summary>The hits that score at least <paramref name="relativeScore"/> of the best one, in order.</summary>
    internal static List<KnowledgeHit> Select(IReadOnlyList<KnowledgeHit> hits, double relativeScore) =>
        hits.Count == 0 ? [] : [.. hits.Where(h => h.Score >= hits[0].Score * relativeScore)];
}
