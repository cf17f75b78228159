using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using WeSeek.Channels.OfficialAccount;
using WeSeek.Channels.WeChat;
using WeSeek.Channels.WeChatCrypto;
using WeSeek.Channels.WeCom;
using WeSeek.Messaging;

namespace WeSeek.Tests.Channels.WeChat;

/// <summary>The parts both WeChat callbacks (公众号 and 企业微信) share, so that they answer alike.</summary>
public sealed class WeChatCallbackTests
{
    [Theory]
    [InlineData(WeChatCryptoError.InvalidSignature, StatusCodes.Status403Forbidden)]
    [InlineData(WeChatCryptoError.InvalidReceiveId, StatusCodes.Status403Forbidden)]
    [InlineData(WeChatCryptoError.InvalidXml, StatusCodes.Status400BadRequest)]
    [InlineData(WeChatCryptoError.DecryptFailed, StatusCodes.Status400BadRequest)]
    public void StatusOf_NotFromWeChatIs403_MalformedIs400(WeChatCryptoError error, int status) =>
        Assert.Equal(status, WeChatCallback.StatusOf(error));

    [Fact]
    public void VerifyUrl_SignedButWithoutEchostr_400ForBothProtocols()
    {
        // 公众号: V4's signed query (protocols.md §1.1); 企业微信: V2's (§3) less its echostr. Without echostr a GET is
        // no URL verification: there is nothing to echo (公众号) or to verify and decrypt (企业微信, whose
        // msg_signature covers it). Malformed, so 400 for both; the 公众号 used to answer an empty 200, which
        // WeChat's console reads as a failed verification anyway.
        var mp = new OfficialAccountCallbackProtocol(ChannelId.From("mp:demo"), "demo",
            new OfficialAccountSettings { Token = "AAAAA", AppId = "wx134c8103faa5a59e" }, new OfficialAccountOptions(), null, null);
        var weCom = new WeChatMessageCrypto("QDG6eK", "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C", "wx5823bf96d3bd56c7");
        var now = TimeProvider.System.GetUtcNow();

        var signed = WeChatCallbackEndpoint.VerifyUrl(Query("?signature=cc0c594499c1634947d5b502f158ee518947db27&timestamp=1715943329&nonce=1590219412&echostr=hello"), mp.OpenEchostr, 0, now);
        var mpBare = WeChatCallbackEndpoint.VerifyUrl(Query("?signature=cc0c594499c1634947d5b502f158ee518947db27&timestamp=1715943329&nonce=1590219412"), mp.OpenEchostr, 0, now);
        var weComBare = WeChatCallbackEndpoint.VerifyUrl(Query("?msg_signature=5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3&timestamp=1409659589&nonce=263014780"),
            (q, echostr) => WeComCallbackProtocol.OpenEchostr(weCom, q, echostr), 0, now);

        Assert.Equal((StatusCodes.Status200OK, "hello"), (signed.Status, signed.Body));
        Assert.Equal((StatusCodes.Status400BadRequest, (string?)null), (mpBare.Status, mpBare.Body));
        Assert.Equal((StatusCodes.Status400BadRequest, (string?)null), (weComBare.Status, weComBare.Body));
    }

    [Fact]
    public void VerifyUrl_OfficialAccountBadSignature_403LikeWeCom()
    {
        var mp = new OfficialAccountCallbackProtocol(ChannelId.From("mp:demo"), "demo",
            new OfficialAccountSettings { Token = "AAAAA", AppId = "wx134c8103faa5a59e" }, new OfficialAccountOptions(), null, null);

        var (status, body, _) = WeChatCallbackEndpoint.VerifyUrl(
            Query("?signature=cc0c594499c1634947d5b502f158ee518947db27&timestamp=1715943329&nonce=1590219413&echostr=hello"), mp.OpenEchostr, 0, TimeProvider.System.GetUtcNow());

        Assert.Equal((StatusCodes.Status403Forbidden, (string?)null), (status, body));
    }

    private static QueryCollection Query(string raw) => new(QueryHelpers.ParseQuery(raw));
}
