using WeSeek.Knowledge;

namespace WeSeek.Tests.Knowledge;

public sealed class KnowledgeChunkerTests
{
    [Fact]
    public void Headings_StartNewPassages_AndNameThem()
    {
        var chunks = KnowledgeChunker.Split("# 假期\n## 年假\n十天。\n## 病假\n五天。\n# 报销\n三十天内。", 300);

        Assert.Equal(
            [new Chunk("假期 / 年假", "十天。"), new Chunk("假期 / 病假", "五天。"), new Chunk("报销", "三十天内。")],
            chunks);
    }

    [Fact]
    public void LongText_IsCutAtSentenceEnds_WithinTheTarget()
    {
        var sentences = Enumerable.Range(0, 60).Select(i => $"第{i}条规定的内容比较长一些，需要仔细阅读{(i % 3 == 0 ? "！" : i % 3 == 1 ? "；" : "。")}").ToList();
        var text = string.Concat(sentences);

        var chunks = KnowledgeChunker.Split(text, 100);

        Assert.True(chunks.Count > 5);
        Assert.All(chunks, c => Assert.InRange(c.Text.Length, 1, 100));
        Assert.All(chunks, c => Assert.Contains(c.Text[^1], "。！；"));
        Assert.Equal(text, string.Concat(chunks.Select(c => c.Text)));
    }

    [Fact]
    public void ASentenceLongerThanTheTarget_IsCutInside_AndNothingIsLost()
    {
        var text = new string('长', 250) + "。短句。";

        var chunks = KnowledgeChunker.Split(text, 100);

        Assert.All(chunks, c => Assert.True(c.Text.Length <= 100));
        Assert.Equal(text, string.Concat(chunks.Select(c => c.Text)));
    }

    [Fact]
    public void Html_KeepsHeadingsAndBlocks_DropsScripts()
    {
        var text = DocumentReader.HtmlToText("<html><head><script>var a = '秘密';</script><style>p{}</style></head><body><h2>门禁</h2><p>访客<b>登记</b>。</p><ul><li><p>挂失。</p></li></ul></body></html>");

        Assert.Equal("## 门禁\n访客登记。\n挂失。\n", text);
        Assert.Equal([new Chunk("门禁", "访客登记。挂失。")], KnowledgeChunker.Split(text, 300));
    }
}
