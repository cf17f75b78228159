using Microsoft.Extensions.Options;
using WeSeek.Moderation;

namespace WeSeek.Tests.Moderation;

/// <summary>Normalisation, the automaton against a naive search, and what the filter does to text.</summary>
public sealed class WordFilterTests
{
    [Theory]
    [InlineData("敏感词", "敏感词")]
    [InlineData("敏 感 词", "敏感词")]
    [InlineData("敏.感-词！", "敏感词")]
    [InlineData("敏\u200B感\u200D词", "敏感词")]
    [InlineData("敏感詞", "敏感词")]
    [InlineData("ＢａＤ　Ｗｏｒｄ", "badword")]
    [InlineData("BAD word", "badword")]
    [InlineData("體驗說話", "体验说话")]
    [InlineData("⼈⾙", "人贝")]
    [InlineData("dǔ bó", "dubo")]
    [InlineData("ⓓ𝐮ｂ\u043E", "dubo")]
    public void Normalize_UndoesTheUsualTricks(string text, string expected) => Assert.Equal(expected, TextNormalizer.Normalize(text).Text);

    [Fact]
    public void Normalize_RemembersWhereEachCharacterCameFrom()
    {
        var normalized = TextNormalizer.Normalize("a b\u200Bc");
        Assert.Equal("abc", normalized.Text);
        Assert.Equal([0, 2, 4], normalized.Origins);
    }

    [Fact]
    public void AhoCorasick_FindsExactlyWhatANaiveSearchFinds()
    {
        var random = new Random(20261128);
        const string alphabet = "abc敏感";
        for (var round = 0; round < 300; round++)
        {
            var words = Enumerable.Range(0, random.Next(1, 8)).Select(_ => Random(random, alphabet, random.Next(1, 4))).Distinct().ToList();
            var text = Random(random, alphabet, random.Next(0, 60));
            var expected = new List<WordMatch>();
            for (var w = 0; w < words.Count; w++)
            {
                for (var i = text.IndexOf(words[w], StringComparison.Ordinal); i >= 0; i = text.IndexOf(words[w], i + 1, StringComparison.Ordinal))
                {
                    expected.Add(new WordMatch(w, i, i + words[w].Length));
                }
            }

            var found = new AhoCorasick(words).Find(text).ToList();
            Assert.Equal(expected.OrderBy(m => m.Start).ThenBy(m => m.Word), found.OrderBy(m => m.Start).ThenBy(m => m.Word));
        }
    }

    [Fact]
    public void Check_MaskKeepsLengthAndEverythingElse()
    {
        var filter = Filter(("mask", ModerationAction.Mask, ["坏词", "badword"]));

        var verdict = filter.Check("这是一个坏 词，还有 BAD-Word 和好词。");

        Assert.Equal(ModerationAction.Mask, verdict.Action);
        Assert.Equal("这是一个＊＊＊，还有 ＊＊＊＊＊＊＊＊ 和好词。", verdict.Text);
        Assert.Equal(2, verdict.Hits.Count);
    }

    [Fact]
    public void Check_WordInSeveralLists_TakesTheMostSevereAction()
    {
        var filter = Filter(("flag", ModerationAction.Flag, ["赌博", "彩票"]), ("block", ModerationAction.Block, ["赌博"]));

        Assert.Equal(ModerationAction.Block, filter.Check("网上賭 博").Action);
        Assert.Equal(ModerationAction.Flag, filter.Check("买彩票").Action);
        Assert.Null(filter.Check("今天天气不错").Action);
    }

    [Fact]
    public void Check_WordFile_IsRead()
    {
        using var directory = new WeSeek.TestKit.TempDirectory();
        var file = Path.Combine(directory.Path, "words.txt");
        File.WriteAllLines(file, ["# 注释", "", "违禁品"]);
        var options = new ModerationOptions();
        var list = new WordListOptions { Action = ModerationAction.Block, File = file };
        options.Lists["file"] = list;

        Assert.Equal(ModerationAction.Block, new WordFilter(Options.Create(options)).Check("出售违 禁 品").Action);
    }

    internal static WordFilter Filter(params (string Name, ModerationAction Action, string[] Words)[] lists)
    {
        var options = new ModerationOptions();
        foreach (var (name, action, words) in lists)
        {
            var list = new WordListOptions { Action = action };
            foreach (var word in words)
            {
                list.Words.Add(word);
            }

            options.Lists[name] = list;
        }

        return new WordFilter(Options.Create(options));
    }

    private static string Random(Random random, string alphabet, int length) =>
        new([.. Enumerable.Range(0, length).Select(_ => alphabet[random.Next(alphabet.Length)])]);
}
