using System.Text.Encodings.Web;
using System.Text.Json;
using WeSeek.Channels.OneBot;
using WeSeek.Messaging;

namespace WeSeek.Host.Tests.OneBot;

/// <summary>OneBot 12 message events (specs/interface/message) mapped to inbound messages.</summary>
public sealed class OneBotMessageMapperTests
{
    private static readonly DateTimeOffset Now = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void SpecExample_GroupMessageWithTextAndImage_WithoutTrigger_IsStoredAsOther()
    {
        // The spec's own message.group example (data-protocol/event.md).
        var e = Parse("""
            {"id":"b6e65187-5ac0-489c-b431-53078e9d2bbb","self":{"platform":"qq","user_id":"123234"},
             "time":1632847927.599013,"type":"message","detail_type":"group","sub_type":"","message_id":"6283",
             "message":[{"type":"text","data":{"text":"OneBot is not a bot"}},{"type":"image","data":{"file_id":"e30f9684-3d54-4f65-b2da-db291a477f16"}}],
             "alt_message":"OneBot is not a bot[图片]","group_id":"12345","user_id":"123456788"}
            """);

        var mapped = OneBotMessageMapper.ToInbound(ChannelId.From("onebot"), e, "123234", "/ai", Now)!;

        Assert.Equal("6283", mapped.Message.ExternalMessageId);
        Assert.Equal("12345", mapped.Message.ChatId);
        Assert.Equal("123456788", mapped.Message.SenderId);
        Assert.True(mapped.Message.IsGroup);
        Assert.Equal(MessageKind.Other, mapped.Message.Kind);
        Assert.Equal("OneBot is not a bot[图片]", mapped.Message.Text);
        var image = Assert.Single(mapped.Message.Attachments);
        Assert.Equal("e30f9684-3d54-4f65-b2da-db291a477f16", image.MediaId);
        Assert.Equal(1632847927599, mapped.Message.SentAt.ToUnixTimeMilliseconds());
    }

    [Theory]
    [InlineData("""[{"type":"mention","data":{"user_id":"bot"}},{"type":"text","data":{"text":" 你好 "}}]""", "你好")]
    [InlineData("""[{"type":"reply","data":{"message_id":"9"}},{"type":"text","data":{"text":"/AI  翻译 @"}},{"type":"mention","data":{"user_id":"u2"}}]""", "翻译 @@u2")]
    [InlineData("""[{"type":"mention","data":{"user_id":"bot"}}]""", "你好")]
    [InlineData("""[{"type":"text","data":{"text":"hi "}},{"type":"mention_all","data":{}},{"type":"mention","data":{"user_id":"bot"}}]""", "hi @所有人")]
    public void TriggeredGroupMessage_IsTextWithTheTriggerRemoved(string segments, string expected)
    {
        var e = Parse($$"""{"type":"message","detail_type":"group","message_id":"1","group_id":"g","user_id":"u","message":{{segments}}}""");

        var mapped = OneBotMessageMapper.ToInbound(ChannelId.From("onebot"), e, "bot", "/ai", Now)!;

        Assert.Equal(MessageKind.Text, mapped.Message.Kind);
        Assert.Equal(expected, mapped.Message.Text);
    }

    [Fact]
    public void NumericIds_AreReadAsStrings_AndPrivateChatIsTheSender()
    {
        var e = Parse("""{"type":"message","detail_type":"private","message_id":42,"user_id":10001,"message":[{"type":"image","data":{"file_id":"f"}}]}""");

        var mapped = OneBotMessageMapper.ToInbound(ChannelId.From("onebot"), e, null, "/ai", Now)!;

        Assert.Equal("42", mapped.MessageId);
        Assert.Equal("10001", mapped.Message.ChatId);
        Assert.False(mapped.Message.IsGroup);
        Assert.Equal(MessageKind.Image, mapped.Message.Kind);
    }

    [Theory]
    [InlineData("""{"type":"message","detail_type":"group","message_id":"1","user_id":"u","message":[]}""")]
    [InlineData("""{"type":"message","detail_type":"private","user_id":"u","message":[]}""")]
    [InlineData("""{"type":"message","detail_type":"channel","message_id":"1","user_id":"u","message":[]}""")]
    public void MalformedOrUnsupported_IsNull(string json) =>
        Assert.Null(OneBotMessageMapper.ToInbound(ChannelId.From("onebot"), Parse(json), "bot", "/ai", Now));

    [Theory]
    [InlineData("帮我翻译一下 good morning", "帮我翻译一下 good morning", MessageKind.Text)]
    [InlineData("what does HELP mean", "what does HELP mean", MessageKind.Text)]
    [InlineData("今天吃什么", "今天吃什么", MessageKind.Other)]
    [InlineData("/ai 翻译 hello", "翻译 hello", MessageKind.Text)]
    public void Keywords_TriggerWithTheKeywordKept_OtherChatterStaysUnanswered(string text, string expected, MessageKind kind)
    {
        var e = Parse($$$"""{"type":"message","detail_type":"group","message_id":"1","group_id":"g","user_id":"u","message":[{"type":"text","data":{"text":"{{{text}}}"}}]}""");

        var mapped = OneBotMessageMapper.ToInbound(ChannelId.From("onebot"), e, "bot", "/ai", Now, ["翻译", "help", " "])!;

        Assert.Equal(kind, mapped.Message.Kind);
        Assert.Equal(expected, mapped.Message.Text);
    }

    [Fact]
    public void Keywords_DoNotApplyToPrivateChats_WhereEveryMessageIsAQuestion()
    {
        var e = Parse("""{"type":"message","detail_type":"private","message_id":"1","user_id":"u","message":[{"type":"text","data":{"text":"今天吃什么"}}]}""");

        var mapped = OneBotMessageMapper.ToInbound(ChannelId.From("onebot"), e, "bot", "/ai", Now, ["翻译"])!;

        Assert.Equal(MessageKind.Text, mapped.Message.Kind);
    }

    [Fact]
    public void NoPrefixNoKeywords_OnlyAMentionTriggers()
    {
        var plain = Parse("""{"type":"message","detail_type":"group","message_id":"1","group_id":"g","user_id":"u","message":[{"type":"text","data":{"text":"/ai 你好"}}]}""");
        var mention = Parse("""{"type":"message","detail_type":"group","message_id":"2","group_id":"g","user_id":"u","message":[{"type":"mention","data":{"user_id":"bot"}},{"type":"text","data":{"text":"/ai 你好"}}]}""");

        Assert.Equal(MessageKind.Other, OneBotMessageMapper.ToInbound(ChannelId.From("onebot"), plain, "bot", "", Now, [])!.Message.Kind);
        var mapped = OneBotMessageMapper.ToInbound(ChannelId.From("onebot"), mention, "bot", "", Now, [])!;
        Assert.Equal(MessageKind.Text, mapped.Message.Kind);
        Assert.Equal("/ai 你好", mapped.Message.Text);
    }

    [Fact]
    public void GroupReply_QuotesThenMentionsThenText()
    {
        var p = OneBotMessageMapper.SendMessageParams(true, "g@chatroom", "答", ("m-1", "wxid_a"));

        Assert.Equal("""{"detail_type":"group","group_id":"g@chatroom","message":[{"type":"reply","data":{"message_id":"m-1","user_id":"wxid_a"}},{"type":"mention","data":{"user_id":"wxid_a"}},{"type":"text","data":{"text":" 答"}}]}""", p.ToJsonString(new JsonSerializerOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));
    }

    private static JsonElement Parse(string json) => JsonDocument.Parse(json).RootElement.Clone();
}
