using WeSeek.Replies;

namespace WeSeek.Tests.Replies;

/// <summary>Markdown as a WeChat chat should show it: no markup characters left, structure kept in text.</summary>
public sealed class MarkdownFlattenerTests
{
    [Theory]
    [InlineData("## 安装步骤", "【安装步骤】")]
    [InlineData("这是**重点**和*强调*，还有`code`。", "这是重点和强调，还有code。")]
    [InlineData("见[官网](https://example.com/docs)。", "见官网 (https://example.com/docs)。")]
    [InlineData("<https://example.com>", "https://example.com")]
    [InlineData("![架构图](https://example.com/a.png)", "[图片：架构图] https://example.com/a.png")]
    [InlineData("第一行<br>第二行", "第一行第二行")]
    [InlineData("A &amp; B", "A & B")]
    [InlineData("---", "——————")]
    [InlineData("> 引用的话", "｜ 引用的话")]
    public void Flatten_Inline(string markdown, string expected) => Assert.Equal(expected, MarkdownFlattener.Flatten(markdown).Text);

    [Fact]
    public void Flatten_Lists_KeepBulletsNumbersAndNesting()
    {
        var flat = MarkdownFlattener.Flatten("""
            步骤：

            1. 打开**设置**
            2. 选择账号
               - 公众号
               - 企业微信
            3. 保存
            """);

        Assert.Equal("步骤：\n\n1. 打开设置\n2. 选择账号\n  • 公众号\n  • 企业微信\n3. 保存", flat.Text);
    }

    [Fact]
    public void Flatten_Table_BecomesRowsOfCells()
    {
        var flat = MarkdownFlattener.Flatten("""
            | 模型 | 大小 |
            |---|---|
            | 1.5b | **1.1 GB** |
            | 7b | 4.7 GB |
            """);

        Assert.Equal("模型 | 大小\n1.5b | 1.1 GB\n7b | 4.7 GB", flat.Text);
    }

    [Fact]
    public void Flatten_CodeBlock_KeptVerbatimAndMarkedUnbreakable()
    {
        var flat = MarkdownFlattener.Flatten("""
            运行：

            ```bash
            dotnet run **not bold**
              --urls http://127.0.0.1:5000
            ```

            完成。
            """);

        Assert.Equal("运行：\n\ndotnet run **not bold**\n  --urls http://127.0.0.1:5000\n\n完成。", flat.Text);
        var code = Assert.Single(flat.Unbreakable);
        Assert.Equal("dotnet run **not bold**\n  --urls http://127.0.0.1:5000", flat.Text[code]);
    }

    [Fact]
    public void Flatten_PlainChineseText_Unchanged()
    {
        const string text = "你好！今天天气不错。\n\n明天见。";
        Assert.Equal(text, MarkdownFlattener.Flatten(text).Text);
    }
}
