using WeSeek.Feedback;

namespace WeSeek.Tests.Feedback;

/// <summary>What the export takes out of training data, including the tricks that slip text past a filter.</summary>
public sealed class PersonalDataTests
{
    [Theory]
    [InlineData("电话13812345678", "电话[手机号]", "phone")]
    [InlineData("打 138 1234 5678 找我", "打 [手机号] 找我", "phone")]
    [InlineData("打１３８-１２３４-５６７８找我", "打[手机号]找我", "phone")]
    [InlineData("+86 139 0000 1111", "+[手机号]", "phone")]
    [InlineData("身份证号：11010519491231002X。", "身份证号：[身份证号]。", "id_number")]
    [InlineData("卡号 6222 0212 3456 7890 128 谢谢", "卡号 [银行卡号] 谢谢", "bank_card")]
    [InlineData("写信到 Zhang.San+wx@Example.com.cn 吧", "写信到 [邮箱] 吧", "email")]
    [InlineData("加我 wxid_a1b2c3d4e5 聊", "加我 [微信号] 聊", "wechat_id")]
    [InlineData("我微信号是 zhang_san-88，加一下", "我微信号是 [微信号]，加一下", "wechat_id")]
    [InlineData("ＶＸ：ａｂｃ１２３４５６", "ＶＸ：[微信号]", "wechat_id")]
    public void Redact_TakesOutPersonalData_WhereverItHides(string text, string expected, string kind)
    {
        var counts = new Dictionary<string, int>();

        Assert.Equal(expected, PersonalData.Redact(text, counts));
        Assert.Equal(1, counts[kind]);
    }

    [Theory]
    [InlineData("订单号 20261128 共 3 件，总价 128.50 元")]
    [InlineData("1 千克等于 2 斤，圆周率约 3.1415926")]
    [InlineData("卡号 6222 0212 3456 7890 123")] // Fails the Luhn check: not a card number.
    [InlineData("请在微信里搜索公众号")]
    public void Redact_LeavesOrdinaryNumbersAndWords(string text)
    {
        var counts = new Dictionary<string, int>();

        Assert.Equal(text, PersonalData.Redact(text, counts));
        Assert.Empty(counts);
    }

    [Fact]
    public void Export_StripsReasoningThatReachedAnAnswer()
    {
        Assert.Equal("答案", FeedbackExport.WithoutReasoning("<think>先想想</think>\n\n答案"));
        Assert.Equal("答案", FeedbackExport.WithoutReasoning("先想想\n</think>\n\n答案")); // R1 opens the block in the prompt.
        Assert.Equal("答案", FeedbackExport.WithoutReasoning("答案<think>没写完"));
    }
}
