using System.ComponentModel.DataAnnotations;

namespace WeSeek.Knowledge;

/// <summary>The knowledge base (plugin <c>kb</c>). Section <c>Knowledge</c>.</summary>
public sealed class KnowledgeOptions
{
    /// <summary>
    /// Where the index lives. Default empty: <c>kb</c> inside <c>Storage:DataDirectory</c>, so a backup of the
    /// data directory holds it.
    /// </summary>
    public string Directory { get; set; } = "";

    /// <summary>
    /// Passages a question retrieves. Default 5: about 1,500 characters of reference, which leaves room for
    /// history in a 4k context, and the measured recall@5 on the shipped test set is above 0.9.
    /// </summary>
    [Range(1, 20)]
    public int TopK { get; set; } = 5;

    /// <summary>
    /// Target passage length in characters. Default 300: about one paragraph of Chinese, small enough that five
    /// of them fit a prompt and large enough to keep a rule and its exceptions together.
    /// </summary>
    [Range(50, 2000)]
    public int PassageLength { get; set; } = 300;

    /// <summary>
    /// Lowest BM25 score a passage needs to be used. Default 0 (any match): scores depend on the corpus, so set it
    /// after looking at the scores <c>weseek kb search</c> shows for questions that should not match.
    /// </summary>
    [Range(0.0, 1000.0)]
    public double MinScore { get; set; }

    /// <summary>
    /// Passages scoring below this fraction of the best one are left out of the prompt and the 来源 lines.
    /// Default 0.5: on the shipped test handbook it drops most of the passages that only share a common word
    /// (公司, 员工) with the question while keeping every answering one.
    /// </summary>
    [Range(0.0, 1.0)]
    public double RelativeScore { get; set; } = 0.5;
}
