using System.Text;
using WeSeek.Replies;

namespace WeSeek.Tests.Replies;

public sealed class ReplySplitterTests
{
    [Fact]
    public void Split_ShortText_OnePiece() => Assert.Equal(["你好"], ReplySplitter.Split("  你好 ", 100, 2048));

    [Fact]
    public void Split_PrefersParagraphThenSentenceBreaks()
    {
        var text = "第一段第一句。第一段第二句。\n\n第二段。";
        Assert.Equal(["第一段第一句。第一段第二句。", "第二段。"], ReplySplitter.Split(text, 16, 0));
        Assert.Equal(["第一段第一句。", "第一段第二句。", "第二段。"], ReplySplitter.Split(text, 10, 0));
    }

    [Fact]
    public void Split_ByteLimit_CountsUtf8AndNeverSplitsASurrogatePair()
    {
        var text = string.Concat(Enumerable.Repeat("😀汉", 50)); // 4 + 3 bytes per repeat
        var parts = ReplySplitter.Split(text, 1000, 20);

        Assert.All(parts, p => Assert.InRange(Encoding.UTF8.GetByteCount(p), 1, 20));
        Assert.All(parts, p => Assert.False(char.IsLowSurrogate(p[0]) || char.IsHighSurrogate(p[^1])));
        Assert.Equal(text, string.Concat(parts));
    }

    [Fact]
    public void Split_LongTextWithoutBreaks_CutAtTheLimit()
    {
        var parts = ReplySplitter.Split(new string('a', 25), 10, 0);
        Assert.Equal([10, 10, 5], parts.Select(p => p.Length));
    }
}
