using System.Collections.Frozen;
using System.Globalization;
using System.Text;

namespace WeSeek.Moderation;

/// <summary>Text reduced to what a word filter should compare, and where each of its characters came from.</summary>
/// <param name="Text">The normalised text: lower-case ASCII letters and digits, simplified Chinese characters, other
/// letters, and <see cref="TextNormalizer.Boundary"/> where a sentence ends.</param>
/// <param name="Origins">For each character of <paramref name="Text"/>, where it starts in the original text.</param>
/// <param name="Ends">For each character, where it ends in the original text (exclusive): a mathematical letter
/// is two UTF-16 units there.</param>
/// <param name="Spaced">True where a separator (a space, a decorative mark, a dropped letter) stood before the
/// character: it tells pinyin typed as "du bo" apart from "dubo".</param>
/// <param name="DroppedLetters">True when a lone letter between Chinese characters was dropped (赌x博).</param>
internal sealed record NormalizedText(string Text, int[] Origins, int[] Ends, bool[] Spaced, bool DroppedLetters = false);

/// <summary>Text spelled as toneless pinyin, for matching listed words by sound. Chinese characters become
/// their syllable; runs of Latin letters that are pinyin (every word of the run splits into syllables) stay as
/// they are; everything else becomes <see cref="TextNormalizer.Boundary"/>, which no word crosses.</summary>
/// <param name="Text">The pinyin spelling.</param>
/// <param name="Origins">For each character of <paramref name="Text"/>, where it starts in the original text.</param>
/// <param name="Ends">For each character, where it ends in the original text (exclusive).</param>
/// <param name="UnitStart">True where a syllable starts (for Latin letters: where some split of the word into
/// syllables starts one).</param>
/// <param name="UnitEnd">True where one ends.</param>
/// <param name="Hanzi">The Chinese character a position was spelled from, or '\0' for Latin letters.</param>
internal sealed record PinyinText(string Text, int[] Origins, int[] Ends, bool[] UnitStart, bool[] UnitEnd, char[] Hanzi);

/// <summary>
/// Undoes the tricks for slipping a word past a filter. Letters: full-width (ＡＢＣ), mathematical (𝐀), circled (ⓐ),
/// accented and tone-marked (ǔ), and the Cyrillic and Greek letters that look Latin (о, ο) all become ASCII;
/// case is dropped. Chinese: traditional characters become simplified (every kSimplifiedVariant of Unihan), and
/// a few rare look-alikes (耺 for 聊) the character they imitate. Separators: spaces, symbols, emoji, decorative
/// punctuation and invisible marks between characters are skipped (敏 感 词, 敏🎲感, 敏\u200B感), and so is a
/// single Latin letter between two Chinese characters (赌x博). Sentence punctuation (，。！？；and a line break)
/// ends a word — 我刷，单位 is not 刷单 — unless it stands between single characters (赌。博。网。站), where it
/// is decoration. Every kept character remembers where it came from, so a match maps back to the original text.
/// </summary>
/// <remarks>
/// The tables are generated and embedded (Moderation/Data): hanzi-simplified.txt and hanzi-pinyin.txt from the
/// Unicode Han Database by tools/unihan/generate.py; letter-folds.txt from Unicode's confusables (UTS #39, through
/// ICU) and NFKD by tools/confusables/generate.py; hanzi-lookalike.txt by hand. Tables rather than ICU or
/// string.Normalize at run time: one dictionary look-up per character keeps a 2,000-character message well under a
/// millisecond, and no maintained .NET package carries confusables or Han reading data.
/// A character with several readings (行 xíng/háng) has only its most common one.
/// </remarks>
internal static class TextNormalizer
{
    /// <summary>Marks the end of a sentence in normalised text; no listed word contains it.</summary>
    public const char Boundary = '|';

    // Declared before the tables: static fields are initialised in order, and LoadSyllables reads it.
    private static readonly System.Buffers.SearchValues<char> Vowels = System.Buffers.SearchValues.Create("aeiouv");
    // Tables indexed by the character (128 KiB and 512 KiB) rather than dictionaries: every Chinese character of
    // every message is looked up in both, and an array read is several times faster than a hash look-up.
    private static readonly char[] HanFolds = LoadHanFolds();
    private static readonly FrozenDictionary<int, string> LetterFolds = LoadLetterFolds();
    private static readonly string?[] Readings = LoadReadings();
    private static readonly FrozenSet<string> Syllables = LoadSyllables();

    private static IEnumerable<string> Lines(string resource)
    {
        using var stream = typeof(TextNormalizer).Assembly.GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"The moderation table {resource} is missing from the build.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        while (reader.ReadLine() is { } line)
        {
            if (line.Length > 0 && line[0] != '#')
            {
                yield return line;
            }
        }
    }

    /// <summary>For each character, its simplified form with look-alikes read as what they imitate; 0 where it
    /// stays itself.</summary>
    private static char[] LoadHanFolds()
    {
        var folds = new char[char.MaxValue + 1];
        var lookalikes = Lines("WeSeek.Moderation.hanzi-lookalike.txt").Where(l => l.Length == 2).ToDictionary(l => l[0], l => l[1]);
        foreach (var (lookalike, original) in lookalikes)
        {
            folds[lookalike] = original;
        }

        foreach (var line in Lines("WeSeek.Moderation.hanzi-simplified.txt").Where(l => l.Length == 2))
        {
            folds[line[0]] = lookalikes.GetValueOrDefault(line[1], line[1]);
        }

        return folds;
    }

    private static FrozenDictionary<int, string> LoadLetterFolds() =>
        Lines("WeSeek.Moderation.letter-folds.txt").Select(l => l.Split('\t')).ToDictionary(p => char.ConvertToUtf32(p[0], 0), p => string.Intern(p[1])).ToFrozenDictionary();

    private static string?[] LoadReadings()
    {
        var readings = new string?[char.MaxValue + 1];
        foreach (var line in Lines("WeSeek.Moderation.hanzi-pinyin.txt"))
        {
            var tab = line.IndexOf('\t', StringComparison.Ordinal);
            var syllable = string.Intern(line[..tab]);
            foreach (var c in line.AsSpan(tab + 1))
            {
                readings[c] ??= syllable;
            }
        }

        return readings;
    }

    private static FrozenSet<string> LoadSyllables()
    {
        // Syllables of the reading table, less those without a vowel (m, n, ng, hm, hng: interjections nobody types
        // as pinyin, and with them too many English words would split into syllables), plus the keyboard spellings
        // of ü (lv, nv, lue, nue).
        var syllables = Lines("WeSeek.Moderation.hanzi-pinyin.txt").Select(l => l[..l.IndexOf('\t', StringComparison.Ordinal)])
            .Where(s => s.AsSpan().ContainsAny(Vowels));
        return syllables.Concat(["lv", "nv", "lue", "nue"]).ToFrozenSet(StringComparer.Ordinal);
    }

    private const int MaxSyllableLength = 6; // zhuang, chuang, shuang

    /// <summary>The pinyin reading of a (simplified) character, or null.</summary>
    public static string? ReadingOf(char c) => Readings[c];

    private enum Kind : byte
    {
        Kept,
        Separator,
        Sentence,
    }

    /// <summary>One code point of the original text after folding: what it became and what kind of thing it is.</summary>
    private readonly record struct Piece(Kind Kind, string? Folded, char Single, int Start, int End)
    {
        public int Length => Folded?.Length ?? 1;

        public char At(int i) => Folded is null ? Single : Folded[i];
    }

    /// <summary>The text normalised. <paramref name="keepInsertedLetters"/> keeps a lone letter between Chinese
    /// characters, for listed words that have one (K粉, A片) and for the words themselves.</summary>
    public static NormalizedText Normalize(string text, bool keepInsertedLetters = false)
    {
        ArgumentNullException.ThrowIfNull(text);
        var pieces = new Piece[text.Length];
        var count = 0;
        var capacity = 0;
        for (var i = 0; i < text.Length;)
        {
            var start = i;
            int code;
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                code = char.ConvertToUtf32(text[i], text[i + 1]);
                i += 2;
            }
            else
            {
                code = text[i];
                i++;
            }

            if (Fold(code, start, i) is { } kept)
            {
                pieces[count++] = kept;
                capacity += kept.Length;
            }
        }

        var result = new char[capacity];
        var origins = new int[capacity];
        var ends = new int[capacity];
        var spaced = new bool[capacity];
        var length = 0;
        var gap = false;
        var dropped = false;
        var all = pieces.AsSpan(0, count);
        for (var p = 0; p < all.Length; p++)
        {
            var piece = all[p];
            if (piece.Kind == Kind.Sentence && !BetweenSingleCharacters(all, p))
            {
                if (length > 0 && result[length - 1] != Boundary)
                {
                    (result[length], origins[length], ends[length], spaced[length]) = (Boundary, piece.Start, piece.End, true);
                    length++;
                }

                gap = true;
                continue;
            }

            if (piece.Kind != Kind.Kept)
            {
                gap = true;
                continue;
            }

            if (!keepInsertedLetters && IsInsertedLetter(all, p))
            {
                dropped = true;
                gap = true;
                continue;
            }

            for (var k = 0; k < piece.Length; k++)
            {
                (result[length], origins[length], ends[length], spaced[length]) = (piece.At(k), piece.Start, piece.End, gap && k == 0);
                length++;
            }

            gap = false;
        }

        if (length > 0 && result[length - 1] == Boundary)
        {
            length--; // the end of the text ends every word anyway
        }

        return new NormalizedText(new string(result, 0, length), origins[..length], ends[..length], spaced[..length], dropped);
    }

    private static Piece? Fold(int code, int start, int end)
    {
        if (code < 0x80)
        {
            var c = (char)code;
            return c switch
            {
                >= 'a' and <= 'z' or >= '0' and <= '9' => new Piece(Kind.Kept, null, c, start, end),
                >= 'A' and <= 'Z' => new Piece(Kind.Kept, null, (char)(c | 0x20), start, end),
                ',' or '.' or '!' or '?' or ';' or '\n' => new Piece(Kind.Sentence, null, c, start, end),
                _ when char.IsControl(c) => null,
                _ => new Piece(Kind.Separator, null, c, start, end),
            };
        }

        if (code <= 0xFFFF && IsHan((char)code))
        {
            var c = (char)code;
            c = HanFolds[c] is not '\0' and var simple ? simple : c;
            return new Piece(Kind.Kept, null, c, start, end);
        }

        if (LetterFolds.TryGetValue(code, out var folded))
        {
            if (folded.Length > 1)
            {
                return new Piece(Kind.Kept, folded, '\0', start, end);
            }

            // A radical or compatibility ideograph folds to a Chinese character, which may itself be traditional.
            var single = folded[0];
            return new Piece(Kind.Kept, null, IsHan(single) && HanFolds[single] is not '\0' and var simple ? simple : single, start, end);
        }

        if (code is '，' or '。' or '！' or '？' or '；' or '｡' or '\u2029' or '\u2028')
        {
            return new Piece(Kind.Sentence, null, (char)code, start, end);
        }

        switch (CharUnicodeInfo.GetUnicodeCategory(code))
        {
            case UnicodeCategory.Format or UnicodeCategory.NonSpacingMark or UnicodeCategory.EnclosingMark or UnicodeCategory.SpacingCombiningMark
                or UnicodeCategory.Control or UnicodeCategory.PrivateUse:
                // Invisible, or marks on a letter (tones, emoji modifiers and variation selectors): nothing there.
                return null;
            case UnicodeCategory.ModifierSymbol when code is >= 0x1F3FB and <= 0x1F3FF:
                return null; // skin tones
            case UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
                or UnicodeCategory.OtherLetter or UnicodeCategory.ModifierLetter or UnicodeCategory.DecimalDigitNumber:
                if (code > 0xFFFF)
                {
                    // A letter outside the Basic Multilingual Plane with no fold (a rare Han extension): kept whole, as
                    // a character no word contains.
                    return new Piece(Kind.Kept, char.ConvertFromUtf32(code), '\0', start, end);
                }

                return new Piece(Kind.Kept, null, char.ToLowerInvariant((char)code), start, end);
            default:
                // Spaces, symbols, emoji, decorative punctuation: separators.
                return new Piece(Kind.Separator, null, ' ', start, end);
        }
    }

    /// <summary>CJK unified ideographs and extension A. Compatibility ideographs and radicals are not: the letter
    /// folds turn them into the unified ideograph first.</summary>
    private static bool IsHan(char c) => c is >= '\u4E00' and <= '\u9FFF' or >= '\u3400' and <= '\u4DBF';

    /// <summary>True when sentence punctuation at <paramref name="p"/> has a single kept character on each side
    /// (赌。博): decoration between the characters of a word, not the end of a sentence.</summary>
    private static bool BetweenSingleCharacters(ReadOnlySpan<Piece> pieces, int p) => RunLength(pieces, p, -1) == 1 && RunLength(pieces, p, 1) == 1;

    /// <summary>How many kept pieces follow <paramref name="p"/> in <paramref name="direction"/> before a separator
    /// or sentence punctuation (counting no further than 2).</summary>
    private static int RunLength(ReadOnlySpan<Piece> pieces, int p, int direction)
    {
        var length = 0;
        for (var i = p + direction; i >= 0 && i < pieces.Length && pieces[i].Kind == Kind.Kept && length < 2; i += direction)
        {
            length++;
        }

        return length;
    }

    /// <summary>True for a lone Latin letter or digit with a Chinese character on each side (separators aside): a
    /// letter inserted to break a word (赌x博). Two or more letters are a word or pinyin (法lun功) and stay.</summary>
    private static bool IsInsertedLetter(ReadOnlySpan<Piece> pieces, int p)
    {
        if (pieces[p].Folded is not null || !char.IsAsciiLetterOrDigit(pieces[p].Single))
        {
            return false;
        }

        return NeighbourIsHan(pieces, p, -1) && NeighbourIsHan(pieces, p, 1);
    }

    private static bool NeighbourIsHan(ReadOnlySpan<Piece> pieces, int p, int direction)
    {
        for (var i = p + direction; i >= 0 && i < pieces.Length; i += direction)
        {
            switch (pieces[i].Kind)
            {
                case Kind.Sentence:
                    return false;
                case Kind.Kept:
                    return pieces[i].Folded is null && IsHan(pieces[i].Single);
            }
        }

        return false;
    }

    /// <summary>The text normalised (<see cref="Normalize(string, bool)"/>), then spelled in pinyin.</summary>
    public static PinyinText Pinyin(string text) => Pinyin(Normalize(text));

    /// <summary>Normalised text spelled in pinyin: Chinese characters by their reading, Latin letters where each of
    /// their words splits into pinyin syllables on its own ("du bo", "DuBo", but not "Dubois" or "basic"), and single
    /// spaced letters read together ("d u b o").</summary>
    public static PinyinText Pinyin(NormalizedText normalized)
    {
        ArgumentNullException.ThrowIfNull(normalized);
        var source = normalized.Text;
        var readings = new string?[source.Length];
        var capacity = 0;
        for (var i = 0; i < source.Length; i++)
        {
            readings[i] = Readings[source[i]];
            capacity += readings[i]?.Length ?? 1;
        }

        var text = new char[capacity];
        var origins = new int[capacity];
        var ends = new int[capacity];
        var starts = new bool[capacity];
        var unitEnds = new bool[capacity];
        var hanzi = new char[capacity];
        var length = 0;

        void Add(char c, int from, bool start, bool end, char han)
        {
            (text[length], origins[length], ends[length], starts[length], unitEnds[length], hanzi[length]) =
                (c, normalized.Origins[from], normalized.Ends[from], start, end, han);
            length++;
        }

        void AddBoundary(int from)
        {
            if (length == 0 || text[length - 1] != Boundary)
            {
                Add(Boundary, from, true, true, '\0');
            }
        }

        for (var i = 0; i < source.Length;)
        {
            var c = source[i];
            if (char.IsAsciiLetterLower(c))
            {
                // A run of letters, split into its words (separated, or single spaced letters read as one word); a
                // word that does not split into syllables is a boundary for sound matching where it stands.
                var runEnd = LatinRunEnd(normalized, i);
                while (i < runEnd)
                {
                    var wordEnd = WordEnd(normalized, i, runEnd);
                    var boundaries = SyllableBoundaries(source.AsSpan(i, wordEnd - i));
                    if (boundaries is null)
                    {
                        AddBoundary(i);
                    }
                    else
                    {
                        for (var k = i; k < wordEnd; k++)
                        {
                            Add(source[k], k, boundaries[k - i], boundaries[k - i + 1], '\0');
                        }
                    }

                    i = wordEnd;
                }

                continue;
            }

            if (readings[i] is { } syllable)
            {
                for (var k = 0; k < syllable.Length; k++)
                {
                    Add(syllable[k], i, k == 0, k == syllable.Length - 1, c);
                }
            }
            else
            {
                AddBoundary(i);
            }

            i++;
        }

        return new PinyinText(new string(text, 0, length), origins[..length], ends[..length], starts[..length], unitEnds[..length], hanzi[..length]);
    }

    private static int LatinRunEnd(NormalizedText normalized, int i)
    {
        while (i < normalized.Text.Length && char.IsAsciiLetterLower(normalized.Text[i]))
        {
            i++;
        }

        return i;
    }

    /// <summary>Where the word starting at <paramref name="word"/> ends: at the next separator, except that a run
    /// of single separated letters (d u b o) is one word.</summary>
    private static int WordEnd(NormalizedText normalized, int word, int runEnd)
    {
        var end = word + 1;
        while (end < runEnd && !normalized.Spaced[end])
        {
            end++;
        }

        if (end - word == 1)
        {
            while (end < runEnd && (end + 1 == runEnd || normalized.Spaced[end + 1]))
            {
                end++;
            }
        }

        return end;
    }

    /// <summary>For a word of lower-case letters, which of its positions (0 to length) a split into pinyin syllables
    /// can put a boundary at (any split: xian is xi|an or xian); null when no split covers the whole word.</summary>
    private static bool[]? SyllableBoundaries(ReadOnlySpan<char> word)
    {
        var n = word.Length;
        Span<bool> fromStart = n < 256 ? stackalloc bool[n + 1] : new bool[n + 1];
        Span<bool> toEnd = n < 256 ? stackalloc bool[n + 1] : new bool[n + 1];
        fromStart.Clear();
        toEnd.Clear();
        fromStart[0] = true;
        toEnd[n] = true;
        var lookup = Syllables.GetAlternateLookup<ReadOnlySpan<char>>();
        for (var i = 0; i < n; i++)
        {
            for (var length = 1; fromStart[i] && length <= MaxSyllableLength && i + length <= n; length++)
            {
                if (lookup.Contains(word.Slice(i, length)))
                {
                    fromStart[i + length] = true;
                }
            }
        }

        if (!fromStart[n])
        {
            return null;
        }

        for (var i = n - 1; i >= 0; i--)
        {
            for (var length = 1; !toEnd[i] && length <= MaxSyllableLength && i + length <= n; length++)
            {
                toEnd[i] = toEnd[i + length] && lookup.Contains(word.Slice(i, length));
            }
        }

        var boundaries = new bool[n + 1];
        for (var i = 0; i <= n; i++)
        {
            boundaries[i] = fromStart[i] && toEnd[i];
        }

        return boundaries;
    }
}
