using Microsoft.AspNetCore.Http;
using WeSeek.Channels.WeChat;
using WeSeek.Channels.WeChatCrypto;

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
}
