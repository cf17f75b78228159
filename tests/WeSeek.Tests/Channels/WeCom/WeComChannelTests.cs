using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;
using WeSeek.Channels.WeChatCrypto;
using WeSeek.Channels.WeCom;

namespace WeSeek.Tests.Channels.WeCom;

/// <summary>The 企业微信 URL verification against the published vectors (protocols.md §3 V2, V5a), the send error
/// classes and the start-up checks.</summary>
public sealed class WeComChannelTests
{
    // V2: the GET of the official WeCom samples, exactly as sent (URL-encoded echostr).
    private const string V2Query = "?msg_signature=5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3&timestamp=1409659589&nonce=263014780&echostr=P9nAzCzyDtyTWESHep1vC5X9xho%2FqYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp%2B4RPcs8TgAE7OaBO%2BFZXvnaqQ%3D%3D";
    private static readonly WeChatMessageCrypto V2Crypto = new("QDG6eK", "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C", "wx5823bf96d3bd56c7");

    private static QueryCollection Query(string raw) => new QueryCollection(QueryHelpers.ParseQuery(raw));

    [Fact]
    public void VerifyUrl_PublishedV2Request_AnswersThePlaintext()
    {
        // The vector's timestamp is from 2014: the replay window is off for a published vector.
        var (status, plain, _) = WeComChannel.VerifyUrl(V2Crypto, Query(V2Query), 0, TimeProvider.System.GetUtcNow());

        Assert.Equal(StatusCodes.Status200OK, status);
        Assert.Equal("1616140317555161061", plain);
    }

    [Fact]
    public void VerifyUrl_RawPlusDecodedAsSpace_StillVerifies()
    {
        // A '+' sent unencoded reaches the query as a space; Base64 never holds one.
        var (status, plain, _) = WeComChannel.VerifyUrl(V2Crypto, Query(V2Query.Replace("%2B", "+", StringComparison.Ordinal)), 0, TimeProvider.System.GetUtcNow());

        Assert.Equal(StatusCodes.Status200OK, status);
        Assert.Equal("1616140317555161061", plain);
    }

    [Fact]
    public void VerifyUrl_PublishedV5a_AnswersThePlaintextAndRefusesTheNegativeNonce()
    {
        var crypto = new WeChatMessageCrypto("123456", "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR", "wx49f0ab532d5d035a");
        var echostr = Uri.EscapeDataString("4ByGGj+sVCYcvGeQYhaKIk1o0pQRNbRjxybjTGblXrBaXlTXeOo1+bXFXDQQb1o6co6Yh9Bv41n7hOchLF6p+Q==");
        var good = WeComChannel.VerifyUrl(crypto, Query($"?msg_signature=dd6b9c95b495b3f7e2901bfbc76c664930ffdb96&timestamp=1411443780&nonce=437374425&echostr={echostr}"), 0, TimeProvider.System.GetUtcNow());
        var bad = WeComChannel.VerifyUrl(crypto, Query($"?msg_signature=dd6b9c95b495b3f7e2901bfbc76c664930ffdb96&timestamp=1411443780&nonce=437374424&echostr={echostr}"), 0, TimeProvider.System.GetUtcNow());

        Assert.Equal("5927782489442352469", good.Plain);
        Assert.Null(bad.Plain);
        Assert.Equal(StatusCodes.Status403Forbidden, bad.Status);
    }

    [Fact]
    public void VerifyUrl_OtherCorpId_Refused()
    {
        var otherCorp = new WeChatMessageCrypto("QDG6eK", "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C", "wx_other_corp");

        var (status, plain, reason) = WeComChannel.VerifyUrl(otherCorp, Query(V2Query), 0, TimeProvider.System.GetUtcNow());

        Assert.Null(plain);
        Assert.Equal(StatusCodes.Status403Forbidden, status);
        Assert.Equal(nameof(WeChatCryptoError.InvalidReceiveId), reason);
    }

    [Fact]
    public void VerifyUrl_VectorReplayedToday_RefusedByTheReplayWindow()
    {
        var (status, plain, _) = WeComChannel.VerifyUrl(V2Crypto, Query(V2Query), 300, TimeProvider.System.GetUtcNow());

        Assert.Null(plain);
        Assert.Equal(StatusCodes.Status403Forbidden, status);
    }

    [Theory]
    [InlineData(45009, true)]
    [InlineData(45015, true)]
    [InlineData(45047, true)]
    [InlineData(81013, true)]
    [InlineData(-1, false)]
    [InlineData(45033, false)]
    [InlineData(60020, false)]
    [InlineData(42001, false)]
    public void SendError_ClassifiedByCode(int errcode, bool permanent) =>
        Assert.Equal(permanent, WeComChannel.IsPermanent(errcode));

    [Fact]
    public void Options_MissingAndMalformedKeys_NamedWithTheirEnvironmentVariables()
    {
        var options = new WeComOptions();
        options.Apps["Demo!"] = new WeComAppSettings { EncodingAesKey = "short" };

        var problems = WeComChannelServiceCollectionExtensions.Problems(options);

        Assert.Contains(problems, p => p.Contains("app name", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("WESEEK__WeCom__Apps__Demo!__Token", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("WESEEK__WeCom__Apps__Demo!__EncodingAesKey", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("WESEEK__WeCom__Apps__Demo!__CorpId", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("WESEEK__WeCom__Apps__Demo!__CorpSecret", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("WESEEK__WeCom__Apps__Demo!__AgentId", StringComparison.Ordinal));
    }

    [Fact]
    public void Options_CompleteApp_NoProblems()
    {
        var options = new WeComOptions();
        options.Apps["demo"] = new WeComAppSettings
        {
            Token = "t", EncodingAesKey = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C", CorpId = "ww1", CorpSecret = "s", AgentId = 1000002,
        };

        Assert.Empty(WeComChannelServiceCollectionExtensions.Problems(options));
    }
}
