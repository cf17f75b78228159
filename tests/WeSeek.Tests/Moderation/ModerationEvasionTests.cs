using WeSeek.Moderation;

namespace WeSeek.Tests.Moderation;

/// <summary>
/// What the filter catches and lets through, one claim each: the evasions and the ordinary sentences the issue named,
/// matching by sound, the tables. The measurement over the whole labelled set is <see cref="ModerationMeasurementTests"/>.
/// </summary>
public sealed class ModerationEvasionTests
{
    private static readonly string[] Words = ["代开发票", "赌博", "私彩", "刷单", "裸聊"];

    [Theory]
    [InlineData("dubo", "赌博")]
    [InlineData("du bo", "赌博")]
    [InlineData("DuBo", "赌博")]
    [InlineData("shua dan", "刷单")]
    [InlineData("ｄｕｂｏ", "赌博")]
    [InlineData("dub\u043E", "赌博")]
    [InlineData("𝐝𝐮𝐛𝐨", "赌博")]
    [InlineData("ⓓⓤⓑⓞ", "赌博")]
    [InlineData("dǔ bó", "赌博")]
    [InlineData("dài kāi fā piào", "代开发票")]
    [InlineData("赌🎲博", "赌博")]
    [InlineData("赌x博", "赌博")]
    [InlineData("裸耺", "裸聊")]
    [InlineData("赌。博", "赌博")]
    public void Evasion_IsCaught(string text, string word)
    {
        var filter = WordFilterTests.Filter(("banned", ModerationAction.Block, Words));

        Assert.Contains(filter.Check(text).Hits, h => h.Word == word);
    }

    [Theory]
    [InlineData("杜博士你好")]
    [InlineData("私菜馆在哪")]
    [InlineData("This is a basic aircraft")]
    [InlineData("Dubois先生来了")]
    [InlineData("我刷，单位的门禁卡")]
    [InlineData("读博还是工作")]
    public void OrdinaryText_Passes(string text)
    {
        var filter = WordFilterTests.Filter(("banned", ModerationAction.Block, Words));

        Assert.Null(filter.Check(text).Action);
    }

    [Fact]
    public void InsertedLetterRule_StillFindsWordsThatHaveALetter()
    {
        var filter = WordFilterTests.Filter(("banned", ModerationAction.Block, ["K粉", "赌博"]));

        Assert.Contains(filter.Check("买K粉吗").Hits, h => h.Word == "K粉");
        Assert.Contains(filter.Check("来赌k博").Hits, h => h.Word == "赌博");
    }

    [Fact]
    public void MathematicalLetters_MaskedWhole_NoHalfSurrogateLeft()
    {
        var filter = WordFilterTests.Filter(("mask", ModerationAction.Mask, ["赌博"]));

        var verdict = filter.Check("来𝐝𝐮𝐛𝐨吧");

        Assert.Equal("来" + new string(WordFilter.MaskChar, 8) + "吧", verdict.Text);
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
    public void ShortWords_MatchedByPinyinNotByHomophones_UnlessTheListSaysOtherwise()
    {
        static WordFilter Filter(int pinyin, int homophones)
        {
            var options = new ModerationOptions();
            var list = new WordListOptions { Action = ModerationAction.Block, PinyinMinLength = pinyin, HomophoneMinLength = homophones };
            list.Words.Add("裸聊");
            options.Lists["short"] = list;
            return new WordFilter(Microsoft.Extensions.Options.Options.Create(options));
        }

        var byDefault = WordFilterTests.Filter(("short", ModerationAction.Block, ["裸聊"]));

        Assert.Equal(ModerationAction.Block, byDefault.Check("luo liao").Action);
        Assert.Null(byDefault.Check("罗辽").Action);
        Assert.Equal(ModerationAction.Block, Filter(pinyin: 2, homophones: 2).Check("罗辽").Action);
        Assert.Null(Filter(pinyin: 0, homophones: 0).Check("luo liao").Action);
        Assert.Equal(ModerationAction.Block, Filter(pinyin: 0, homophones: 0).Check("裸 聊").Action);
    }

    [Fact]
    public void TraditionalTable_CoversUnihan_NotJustCommonCharacters()
    {
        // Rare traditional forms the old hand-made table did not have.
        Assert.Equal("钟表龟鸡", TextNormalizer.Normalize("鐘錶龜雞").Text);
        Assert.Equal("falungong", TextNormalizer.Pinyin("法輪功").Text);
    }
}
