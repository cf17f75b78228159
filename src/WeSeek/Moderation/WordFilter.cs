using Microsoft.Extensions.Options;

namespace WeSeek.Moderation;

/// <summary>A word of a list found in a text; <see cref="Start"/>/<see cref="End"/> index the original text.</summary>
internal sealed record ModerationHit(string List, ModerationAction Action, string Word, int Start, int End);

/// <summary>The filter's finding: the most severe action (null when nothing matched), the text with masked
/// words replaced, and every hit.</summary>
internal sealed record ModerationVerdict(ModerationAction? Action, string Text, IReadOnlyList<ModerationHit> Hits)
{
    public static ModerationVerdict Pass(string text) => new(null, text, []);
}

/// <summary>
/// The configured word lists compiled into one automaton over normalised words (<see cref="TextNormalizer"/>).
/// A word in several lists takes the most severe action. Built once at start-up; thread-safe.
/// </summary>
internal sealed class WordFilter
{
    /// <summary>The mask character: full-width, so a masked Chinese word keeps its width.</summary>
    public const char MaskChar = '＊';

    private readonly AhoCorasick _automaton;
    private readonly (string List, ModerationAction Action, string Word)[] _words;
    private readonly AhoCorasick _soundAutomaton;
    private readonly (string List, ModerationAction Action, string Word)[] _soundWords;

    public WordFilter(IOptions<ModerationOptions> options)
    {
        var byWord = new Dictionary<string, (string List, ModerationAction Action, string Word)>(StringComparer.Ordinal);
        var bySound = new Dictionary<string, (string List, ModerationAction Action, string Word)>(StringComparer.Ordinal);
        foreach (var (name, list) in options.Value.Lists)
        {
            var words = list.Words.AsEnumerable();
            if (!string.IsNullOrEmpty(list.File))
            {
                words = words.Concat(File.ReadLines(list.File).Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')));
            }

            foreach (var word in words)
            {
                var key = TextNormalizer.Normalize(word).Text;
                if (key.Length == 0)
                {
                    continue;
                }

                Keep(byWord, key, (name, list.Action, word));
                if (list.PinyinMinLength > 0 && key.Count(c => TextNormalizer.ReadingOf(c) is not null) >= list.PinyinMinLength)
                {
                    Keep(bySound, TextNormalizer.Pinyin(word).Text, (name, list.Action, word));
                }
            }
        }

        _words = [.. byWord.Values];
        _automaton = new AhoCorasick([.. byWord.Keys]);
        _soundWords = [.. bySound.Values];
        _soundAutomaton = new AhoCorasick([.. bySound.Keys]);
        WordCount = _words.Length;
    }

    private static void Keep(Dictionary<string, (string List, ModerationAction Action, string Word)> words, string key, (string List, ModerationAction Action, string Word) entry)
    {
        if (!words.TryGetValue(key, out var existing) || existing.Action < entry.Action)
        {
            words[key] = entry;
        }
    }

    public int WordCount { get; }

    public ModerationVerdict Check(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (WordCount == 0 || text.Length == 0)
        {
            return ModerationVerdict.Pass(text);
        }

        var normalized = TextNormalizer.Normalize(text);
        var hits = new List<ModerationHit>();
        foreach (var match in _automaton.Find(normalized.Text))
        {
            var (list, action, word) = _words[match.Word];
            hits.Add(new ModerationHit(list, action, word, normalized.Origins[match.Start], normalized.Origins[match.End - 1] + 1));
        }

        if (_soundWords.Length > 0)
        {
            // By sound: homophones (发轮功) and pinyin (fa lun gong, 法lun功), held to whole syllables so that a
            // word cannot match the tail of one syllable and the head of the next.
            var pinyin = TextNormalizer.Pinyin(text);
            foreach (var match in _soundAutomaton.Find(pinyin.Text))
            {
                if (!pinyin.UnitStart[match.Start] || !pinyin.UnitEnd[match.End - 1])
                {
                    continue;
                }

                var (list, action, word) = _soundWords[match.Word];
                var hit = new ModerationHit(list, action, word, pinyin.Origins[match.Start], pinyin.Origins[match.End - 1] + 1);
                if (!hits.Any(h => h.Word == hit.Word && h.Start == hit.Start && h.End == hit.End))
                {
                    hits.Add(hit);
                }
            }
        }

        if (hits.Count == 0)
        {
            return ModerationVerdict.Pass(text);
        }

        var masked = text.ToCharArray();
        foreach (var hit in hits.Where(h => h.Action == ModerationAction.Mask))
        {
            for (var i = hit.Start; i < hit.End; i++)
            {
                // Everything from the word's first to its last character, spacers included ("敏 感" → "＊＊＊").
                masked[i] = MaskChar;
            }
        }

        return new ModerationVerdict(hits.Max(h => h.Action), new string(masked), hits);
    }
}
