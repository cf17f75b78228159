using WeSeek.Moderation;

namespace WeSeek.Tests.Moderation;

/// <summary>
/// The word filter against a labelled set of evasions of real spam and fraud terms (full-width, spaced,
/// punctuated, zero-width, traditional, pinyin, mixed, homophones, combinations): recall is reported and held to a
/// floor, and a set of innocent sentences, some sounding close, must all pass.
/// </summary>
public sealed class ModerationEvasionTests
{
    private static readonly string[] Words = ["代开发票", "赌博网站", "刷单返利", "枪支弹药", "casino"];

    // (evasion, word it hides, trick)
    private static readonly (string Text, string Word, string Trick)[] Evasions =
    [
        ("专业代开发票，联系我", "代开发票", "exact"),
        ("代 开 发 票", "代开发票", "spaced"),
        ("代.开-发_票", "代开发票", "punctuated"),
        ("代\u200B开\u200C发\u200D票", "代开发票", "zero-width"),
        ("代開發票", "代开发票", "traditional"),
        ("dai kai fa piao 找我", "代开发票", "pinyin"),
        ("DaiKaiFaPiao", "代开发票", "pinyin"),
        ("ｄａｉｋａｉｆａｐｉａｏ", "代开发票", "full-width pinyin"),
        ("代kai发票", "代开发票", "mixed"),
        ("带开发漂", "代开发票", "homophone"),
        ("代 開 fa 票", "代开发票", "combined"),
        ("最新赌博网站推荐", "赌博网站", "exact"),
        ("賭博網站", "赌博网站", "traditional"),
        ("赌\u2060博\uFEFF网站", "赌博网站", "zero-width"),
        ("堵博网站", "赌博网站", "homophone"),
        ("du bo wang zhan", "赌博网站", "pinyin"),
        ("赌。博。网。站", "赌博网站", "punctuated"),
        ("刷单返利，日赚三百", "刷单返利", "exact"),
        ("刷单反利", "刷单返利", "homophone"),
        ("shua dan fan li", "刷单返利", "pinyin"),
        ("刷單返利", "刷单返利", "traditional"),
        ("刷 单 返 利", "刷单返利", "spaced"),
        ("出售枪支弹药", "枪支弹药", "exact"),
        ("抢支弹药", "枪支弹药", "homophone"),
        ("槍支彈藥", "枪支弹药", "traditional"),
        ("qiang zhi dan yao", "枪支弹药", "pinyin"),
        ("枪zhi弹yao", "枪支弹药", "mixed"),
        ("ＣＡＳＩＮＯ", "casino", "full-width"),
        ("c a s i n o", "casino", "spaced"),
        ("Ca\u200Bsi\u200Bno", "casino", "zero-width"),
    ];

    private static readonly string[] Innocent =
    [
        "今天天气很好，我们去公园吧",
        "发票怎么开？公司报销要用",
        "他开发了一款游戏，很好玩",
        "去西安全程要多久",
        "博物馆几点开门",
        "网站打不开了，帮我看看",
        "带孩子去开发区的图书馆",
        "单反相机和微单哪个好",
        "抢购的商品什么时候发货",
        "请帮我写一段 Python 代码",
        "occasion 这个单词怎么读",
        "我想学习支付宝的利息怎么算",
    ];

    [Fact]
    public void Evasions_RecallAboveTheFloor_InnocentTextPasses()
    {
        var filter = WordFilterTests.Filter(("spam", ModerationAction.Block, Words));
        var missed = Evasions.Where(e => !filter.Check(e.Text).Hits.Any(h => h.Word == e.Word)).ToList();
        var recall = 1 - ((double)missed.Count / Evasions.Length);
        var flagged = Innocent.Where(t => filter.Check(t).Action is not null).ToList();

        TestContext.Current.TestOutputHelper?.WriteLine(
            $"moderation recall {recall:P1} ({Evasions.Length - missed.Count}/{Evasions.Length}); false positives {flagged.Count}/{Innocent.Length}");
        foreach (var trick in Evasions.GroupBy(e => e.Trick))
        {
            TestContext.Current.TestOutputHelper?.WriteLine($"  {trick.Key}: {trick.Count(e => !missed.Contains(e))}/{trick.Count()}");
        }

        Assert.True(recall >= 0.95, $"recall {recall:P1}; missed: {string.Join(", ", missed.Select(m => $"{m.Text} ({m.Trick})"))}");
        Assert.Empty(flagged);
    }

    [Theory]
    [InlineData("法lun功", "法轮功")]
    [InlineData("发轮功", "法轮功")]
    [InlineData("fa lun gong", "法轮功")]
    public void MatchBySound_MasksTheOriginalCharacters(string text, string word)
    {
        var filter = WordFilterTests.Filter(("mask", ModerationAction.Mask, [word]));

        var verdict = filter.Check("他说" + text + "。");

        Assert.Equal(ModerationAction.Mask, verdict.Action);
        Assert.Equal("他说" + new string(WordFilter.MaskChar, text.Length) + "。", verdict.Text);
    }

    [Fact]
    public void MatchBySound_HoldsToWholeSyllables()
    {
        // 安全帽 reads "anquanmao"; 三全帽 reads "s|an|quan|mao" in letters but "san|quan|mao" in syllables: the
        // word would start inside 三's syllable, so it does not match. 按全帽 (an|quan|mao) does.
        var filter = WordFilterTests.Filter(("flag", ModerationAction.Flag, ["安全帽"]));

        Assert.Null(filter.Check("三全帽").Action);
        Assert.Equal(ModerationAction.Flag, filter.Check("按全帽").Action);
    }

    [Fact]
    public void ShortWords_AreNotMatchedBySound_UnlessTheListAsks()
    {
        var byDefault = WordFilterTests.Filter(("short", ModerationAction.Block, ["裸聊"]));
        var options = new ModerationOptions();
        var list = new WordListOptions { Action = ModerationAction.Block, PinyinMinLength = 2 };
        list.Words.Add("裸聊");
        options.Lists["short"] = list;
        var asked = new WordFilter(Microsoft.Extensions.Options.Options.Create(options));

        Assert.Null(byDefault.Check("luo liao").Action);
        Assert.Equal(ModerationAction.Block, byDefault.Check("裸 聊").Action);
        Assert.Equal(ModerationAction.Block, asked.Check("luo liao").Action);
    }

    [Fact]
    public void TraditionalTable_CoversUnihan_NotJustCommonCharacters()
    {
        // Rare traditional forms the old hand-made table did not have.
        Assert.Equal("钟表龟鸡", TextNormalizer.Normalize("鐘錶龜雞").Text);
        Assert.Equal("falungong", TextNormalizer.Pinyin("法輪功").Text);
    }
}
