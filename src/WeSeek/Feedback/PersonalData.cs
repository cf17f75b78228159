using System.Text.RegularExpressions;
using WeSeek.Moderation;

namespace WeSeek.Feedback;

/// <summary>
/// Takes personal data out of text before it leaves the machine as training data: mainland mobile numbers, resident
/// ID numbers, bank card numbers (Luhn-checked), e-mail addresses and WeChat ids, each replaced by a label
/// (<c>[手机号]</c>). Numbers and ids are found in the moderation normaliser's view of the text, so the tricks that
/// slip a word past a filter do not slip a number past this (full-width digits, 138 1234 5678, 1３8-1234-5678, ＶＸ：
/// abc_123), and every match is mapped back to the characters it came from. It errs towards taking out too much.
/// </summary>
internal static partial class PersonalData
{
    /// <summary>The kinds, with the label each is replaced by.</summary>
    public static readonly IReadOnlyDictionary<string, string> Labels = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["id_number"] = "[身份证号]",
        ["bank_card"] = "[银行卡号]",
        ["phone"] = "[手机号]",
        ["email"] = "[邮箱]",
        ["wechat_id"] = "[微信号]",
    };

    /// <summary><paramref name="text"/> with personal data replaced; each replacement is counted in <paramref name="counts"/> by kind.</summary>
    public static string Redact(string text, IDictionary<string, int> counts)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(counts);
        if (text.Length == 0)
        {
            return text;
        }

        var spans = new List<(int Start, int End, string Kind)>();
        void Take(int start, int end, string kind)
        {
            if (!spans.Exists(s => start < s.End && s.Start < end))
            {
                spans.Add((start, end, kind));
            }
        }

        // On the text itself: what the normaliser takes apart ('@', '.', '_').
        foreach (Match m in Email().Matches(text))
        {
            Take(m.Index, m.Index + m.Length, "email");
        }

        foreach (Match m in WxidRaw().Matches(text))
        {
            Take(m.Index, m.Index + m.Length, "wechat_id");
        }

        // On the normalised view, mapped back: ID numbers first (18 characters), then phones (a +86 number may pass the
        // Luhn check), then card numbers; the look-arounds keep each from matching inside a longer run of digits.
        var view = TextNormalizer.Normalize(text, keepInsertedLetters: true);
        void TakeNormalized(Group g, string kind) => Take(view.Origins[g.Index], view.Ends[g.Index + g.Length - 1], kind);
        foreach (Match m in IdNumber().Matches(view.Text))
        {
            TakeNormalized(m.Groups[1], "id_number");
        }

        foreach (Match m in Phone().Matches(view.Text))
        {
            TakeNormalized(m.Groups[1], "phone");
        }

        foreach (Match m in LongNumber().Matches(view.Text))
        {
            if (Luhn(m.Groups[1].Value))
            {
                TakeNormalized(m.Groups[1], "bank_card");
            }
        }

        foreach (Match m in WeChatId().Matches(view.Text))
        {
            TakeNormalized(m.Groups[1], "wechat_id");
        }

        if (spans.Count == 0)
        {
            return text;
        }

        var result = new System.Text.StringBuilder(text.Length);
        var at = 0;
        foreach (var (start, end, kind) in spans.OrderBy(s => s.Start))
        {
            result.Append(text, at, start - at).Append(Labels[kind]);
            at = end;
            counts[kind] = counts.TryGetValue(kind, out var n) ? n + 1 : 1;
        }

        return result.Append(text, at, text.Length - at).ToString();
    }

    private static bool Luhn(string digits)
    {
        var sum = 0;
        for (var i = 0; i < digits.Length; i++)
        {
            var d = digits[digits.Length - 1 - i] - '0';
            sum += i % 2 == 1 ? (d * 2 > 9 ? d * 2 - 9 : d * 2) : d;
        }

        return sum % 10 == 0;
    }

    [GeneratedRegex(@"[A-Za-z0-9._%+\-]+[@＠][A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}", RegexOptions.CultureInvariant)]
    private static partial Regex Email();

    [GeneratedRegex(@"wxid_[A-Za-z0-9_\-]{4,}", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase)]
    private static partial Regex WxidRaw();

    // 18 characters: region (6), birth date (8), sequence (3), check digit or X (GB 11643).
    [GeneratedRegex(@"(?<![0-9])([1-9][0-9]{5}(?:18|19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])[0-9]{3}[0-9x])(?![0-9])", RegexOptions.CultureInvariant)]
    private static partial Regex IdNumber();

    // Bank cards are 13-19 digits (UnionPay 16-19).
    [GeneratedRegex(@"(?<![0-9])([0-9]{13,19})(?![0-9])", RegexOptions.CultureInvariant)]
    private static partial Regex LongNumber();

    // Mainland mobile numbers, with or without +86.
    [GeneratedRegex(@"(?<![0-9])((?:86)?1[3-9][0-9]{9})(?![0-9])", RegexOptions.CultureInvariant)]
    private static partial Regex Phone();

    // A WeChat id said as one (微信号 abc_123, vx: …, 加V …): 6-20 characters starting with a letter.
    [GeneratedRegex(@"(?:微信号?|威信|薇信|v信|vx|wx|weixin|wechat|加v)(?:号|id)?(?:是|为)?([a-z][a-z0-9]{5,19})", RegexOptions.CultureInvariant)]
    private static partial Regex WeChatId();
}
