namespace WeSeek.Conversations;

/// <summary>Counts the tokens a text costs in a prompt. Thread-safe. The embedded engine replaces the
/// default estimate with its tokenizer's exact count.</summary>
public interface ITokenCounter
{
    /// <summary>The token count of <paramref name="text"/>.</summary>
    int Count(string text);
}

/// <summary>
/// A conservative estimate for when no tokenizer is at hand (a remote engine): one token per CJK character
/// and one per four other characters. Qwen's tokenizer spends about 0.7 tokens per Chinese character and
/// about 0.25 per English character, so the estimate errs on the side of a shorter window, never an
/// overflowing one.
/// </summary>
public sealed class EstimatingTokenCounter : ITokenCounter
{
    public int Count(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        int cjk = 0, other = 0;
        foreach (var c in text)
        {
            if (c is >= '\u2E80' and <= '\u9FFF' or >= '\uAC00' and <= '\uD7AF' or >= '\uF900' and <= '\uFAFF' or >= '\uFF00' and <= '\uFFEF')
            {
                cjk++;
            }
            else
            {
                other++;
            }
        }

        return cjk + ((other + 3) / 4);
    }
}
