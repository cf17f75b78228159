using System.Globalization;
using System.Text;

namespace WeSeek.Moderation;

/// <summary>Text reduced to what a word filter should compare, and where each of its characters came from.</summary>
/// <param name="Text">The normalised text.</param>
/// <param name="Origins">For each character of <paramref name="Text"/>, its index in the original text.</param>
internal sealed record NormalizedText(string Text, int[] Origins);

/// <summary>Text spelled as toneless pinyin: each Chinese character becomes its syllable, Latin letters and digits
/// stay. <see cref="UnitStart"/> and <see cref="UnitEnd"/> mark where a syllable or a Latin character begins and
/// ends, so a match can be held to whole syllables.</summary>
/// <param name="Text">The pinyin spelling (lower-case ASCII, digits, and characters with no reading).</param>
/// <param name="Origins">For each character of <paramref name="Text"/>, its index in the original text.</param>
/// <param name="UnitStart">True where a syllable or a single other character starts.</param>
/// <param name="UnitEnd">True where one ends.</param>
internal sealed record PinyinText(string Text, int[] Origins, bool[] UnitStart, bool[] UnitEnd);

/// <summary>
/// Undoes the usual tricks for slipping a word past a filter: full-width letters (ＡＢＣ), case, zero-width
/// characters, spaces and punctuation between characters (敏 感 词, 敏.感.词), and traditional characters
/// (敏感詞, every kSimplifiedVariant of Unihan). <see cref="Pinyin"/> goes one step further, to the sound: 法轮功,
/// 发轮功 and "fa lun gong" all read <c>falungong</c>. Every kept character remembers its original index, so a
/// match maps back to the original text (for masking).
/// </summary>
/// <remarks>
/// The tables are generated from the Unicode Han Database by tools/unihan/generate.py and embedded
/// (Moderation/Data): no NuGet package carries traditional→simplified and pinyin data for .NET that is kept up.
/// A character with several readings (行 xíng/háng) has only its most common one.
/// </remarks>
internal static class TextNormalizer
{
    private static readonly Dictionary<char, char> ToSimplified = LoadSimplified();
    private static readonly Dictionary<char, string> Readings = LoadReadings();

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

    private static Dictionary<char, char> LoadSimplified() =>
        Lines("WeSeek.Moderation.hanzi-simplified.txt").Where(l => l.Length == 2).ToDictionary(l => l[0], l => l[1]);

    private static Dictionary<char, string> LoadReadings()
    {
        var readings = new Dictionary<char, string>();
        foreach (var line in Lines("WeSeek.Moderation.hanzi-pinyin.txt"))
        {
            var tab = line.IndexOf('\t', StringComparison.Ordinal);
            var syllable = string.Intern(line[..tab]);
            foreach (var c in line.AsSpan(tab + 1))
            {
                readings.TryAdd(c, syllable);
            }
        }

        return readings;
    }

    /// <summary>The pinyin reading of a (simplified) character, or null.</summary>
    public static string? ReadingOf(char c) => Readings.GetValueOrDefault(c);

    /// <summary>The text normalised (<see cref="Normalize"/>), then spelled in toneless pinyin.</summary>
    public static PinyinText Pinyin(string text)
    {
        var normalized = Normalize(text);
        var result = new StringBuilder(normalized.Text.Length * 3);
        var origins = new List<int>(normalized.Text.Length * 3);
        var starts = new List<bool>(normalized.Text.Length * 3);
        for (var i = 0; i < normalized.Text.Length; i++)
        {
            var c = normalized.Text[i];
            var unit = Readings.TryGetValue(c, out var syllable) ? syllable : c.ToString();
            for (var k = 0; k < unit.Length; k++)
            {
                result.Append(unit[k]);
                origins.Add(normalized.Origins[i]);
                starts.Add(k == 0);
            }
        }

        var ends = new bool[starts.Count];
        for (var i = 0; i < ends.Length; i++)
        {
            ends[i] = i + 1 == ends.Length || starts[i + 1];
        }

        return new PinyinText(result.ToString(), [.. origins], [.. starts], ends);
    }

    public static NormalizedText Normalize(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var result = new StringBuilder(text.Length);
        var origins = new List<int>(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (IsIgnorable(c))
            {
                continue;
            }

            if (c is >= '\uFF01' and <= '\uFF5E')
            {
                // Full-width ASCII (ＡＢＣ１２３！) to its half-width form.
                c = (char)(c - 0xFEE0);
                if (!char.IsLetterOrDigit(c))
                {
                    continue;
                }
            }

            c = char.ToLowerInvariant(c);
            if (ToSimplified.TryGetValue(c, out var simplified))
            {
                c = simplified;
            }

            result.Append(c);
            origins.Add(i);
        }

        return new NormalizedText(result.ToString(), [.. origins]);
    }

    /// <summary>Characters that separate nothing: spacing, punctuation, symbols and invisible format marks.</summary>
    private static bool IsIgnorable(char c) => char.GetUnicodeCategory(c) switch
    {
        UnicodeCategory.SpaceSeparator or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator or UnicodeCategory.Control
            or UnicodeCategory.Format or UnicodeCategory.ConnectorPunctuation or UnicodeCategory.DashPunctuation
            or UnicodeCategory.OpenPunctuation or UnicodeCategory.ClosePunctuation or UnicodeCategory.InitialQuotePunctuation
            or UnicodeCategory.FinalQuotePunctuation or UnicodeCategory.OtherPunctuation or UnicodeCategory.MathSymbol
            or UnicodeCategory.ModifierSymbol or UnicodeCategory.NonSpacingMark => true,
        _ => false,
    };
}
