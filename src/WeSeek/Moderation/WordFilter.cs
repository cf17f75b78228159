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
/// The configured word lists compiled into two automata: one over normalised characters (<see cref="TextNormalizer"/>),
/// one over pinyin for the words a list matches by sound. A word in several lists takes the most severe action.
/// Built once at start-up; thread-safe.
/// </summary>
internal sealed class WordFilter
{
    /// <summary>The mask character: full-width, so a masked Chinese word keeps its width.</summary>
    public const char MaskChar = '＊';

    private readonly AhoCorasick _automaton;
    private readonly (string List, ModerationAction Action, string Word)[] _words;
    private readonly AhoCorasick _soundAutomaton;
    private readonly SoundWord[][] _soundWords;
    private readonly bool _lettersAmongHanzi;  // some word mixes Latin letters with Chinese characters (K粉)

    /// <summary>A word as its sound: its characters, where each syllable starts in its pinyin, and what a list lets
    /// stand in for the characters (pinyin, other characters of the same sound).</summary>
    private sealed record SoundWord(string List, ModerationAction Action, string Word, string Hanzi, int[] SyllableStarts, bool Pinyin, bool Homophones);

    public WordFilter(IOptions<ModerationOptions> options)
    {
        var byWord = new Dictionary<string, (string List, ModerationAction Action, string Word)>(StringComparer.Ordinal);
        var bySound = new Dictionary<string, List<SoundWord>>(StringComparer.Ordinal);
        foreach (var (name, list) in options.Value.Lists)
        {
            var words = list.Words.AsEnumerable();
            if (!string.IsNullOrEmpty(list.File))
            {
                words = words.Concat(File.ReadLines(list.File).Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')));
            }

            foreach (var word in words)
            {
                var key = TextNormalizer.Normalize(word, keepInsertedLetters: true).Text;
                if (key.Length == 0)
                {
                    continue;
                }

                Keep(byWord, key, (name, list.Action, word));
                if (SoundOf(name, list, word, key) is { } sound)
                {
                    var spelled = string.Concat(key.Select(c => TextNormalizer.ReadingOf(c)));
                    if (!bySound.TryGetValue(spelled, out var same))
                    {
                        bySound[spelled] = same = [];
                    }

                    same.Add(sound);
                }
            }
        }

        _lettersAmongHanzi = byWord.Keys.Any(k => k.Any(char.IsAsciiLetterOrDigit) && k.Any(c => TextNormalizer.ReadingOf(c) is not null));
        _words = [.. byWord.Values];
        _automaton = new AhoCorasick([.. byWord.Keys]);
        _soundWords = [.. bySound.Values.Select(v => v.ToArray())];
        _soundAutomaton = new AhoCorasick([.. bySound.Keys]);
        WordCount = _words.Length;
    }

    private static SoundWord? SoundOf(string name, WordListOptions list, string word, string key)
    {
        // Only words of Chinese characters that all have a reading are matched by sound.
        if (key.Any(c => TextNormalizer.ReadingOf(c) is null))
        {
            return null;
        }

        var pinyin = list.PinyinMinLength > 0 && key.Length >= list.PinyinMinLength;
        var homophones = list.HomophoneMinLength > 0 && key.Length >= list.HomophoneMinLength;
        if (!pinyin && !homophones)
        {
            return null;
        }

        var starts = new int[key.Length];
        for (var i = 1; i < key.Length; i++)
        {
            starts[i] = starts[i - 1] + TextNormalizer.ReadingOf(key[i - 1])!.Length;
        }

        return new SoundWord(name, list.Action, word, key, starts, pinyin, homophones);
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
        List<ModerationHit>? hits = null;
        foreach (var match in _automaton.Find(normalized.Text))
        {
            var (list, action, word) = _words[match.Word];
            (hits ??= []).Add(new ModerationHit(list, action, word, normalized.Origins[match.Start], normalized.Ends[match.End - 1]));
        }

        if (normalized.DroppedLetters && _lettersAmongHanzi)
        {
            // A lone letter between characters was dropped as an insertion (赌x博), but a listed word may have one
            // (买K粉 for K粉): look again with it kept. Only then, so ordinary lists pay nothing for it.
            var kept = TextNormalizer.Normalize(text, keepInsertedLetters: true);
            foreach (var match in _automaton.Find(kept.Text))
            {
                var (list, action, word) = _words[match.Word];
                var hit = new ModerationHit(list, action, word, kept.Origins[match.Start], kept.Ends[match.End - 1]);
                if (hits is null || !hits.Contains(hit))
                {
                    (hits ??= []).Add(hit);
                }
            }
        }

        if (_soundWords.Length > 0)
        {
            var pinyin = TextNormalizer.Pinyin(normalized);
            foreach (var match in _soundAutomaton.Find(pinyin.Text))
            {
                // Held to whole syllables, so that a word cannot match the tail of one syllable and the head of the next.
                if (!pinyin.UnitStart[match.Start] || !pinyin.UnitEnd[match.End - 1])
                {
                    continue;
                }

                foreach (var sound in _soundWords[match.Word])
                {
                    if (!SoundsLike(sound, pinyin, match.Start, match.End))
                    {
                        continue;
                    }

                    var hit = new ModerationHit(sound.List, sound.Action, sound.Word, pinyin.Origins[match.Start], pinyin.Ends[match.End - 1]);
                    if (hits is null || !hits.Any(h => h.Word == hit.Word && h.Start == hit.Start && h.End == hit.End))
                    {
                        (hits ??= []).Add(hit);
                    }
                }
            }
        }

        if (hits is null)
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

    /// <summary>
    /// Whether the pinyin at [start, end) stands for the word as its list allows: every Chinese character in it sits
    /// on one of the word's syllables and is the word's own character (pinyin: 赌bo, "du bo") or, where the list
    /// allows homophones, any character of the same sound (堵博网站). Chinese text is thus matched as characters
    /// unless homophones are asked for: 杜博 is not 赌博.
    /// </summary>
    private static bool SoundsLike(SoundWord sound, PinyinText pinyin, int start, int end)
    {
        var latin = false;
        var homophone = false;
        var syllable = 0;
        for (var p = start; p < end; p++)
        {
            if (pinyin.Hanzi[p] == '\0')
            {
                latin = true;
                continue;
            }

            if (!pinyin.UnitStart[p])
            {
                continue;
            }

            var offset = p - start;
            while (syllable < sound.SyllableStarts.Length && sound.SyllableStarts[syllable] < offset)
            {
                syllable++;
            }

            if (syllable == sound.SyllableStarts.Length || sound.SyllableStarts[syllable] != offset)
            {
                return false;
            }

            if (pinyin.Hanzi[p] != sound.Hanzi[syllable])
            {
                homophone = true;
            }
        }

        return (latin || homophone) && (!latin || sound.Pinyin) && (!homophone || sound.Homophones);
    }
}
