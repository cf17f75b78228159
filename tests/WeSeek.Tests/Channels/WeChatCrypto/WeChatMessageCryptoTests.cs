using System.Text;
using System.Text.Json;
using WeSeek.Channels.WeChatCrypto;

namespace WeSeek.Tests.Channels.WeChatCrypto;

/// <summary>WXBizMsgCrypt against every published vector (wxbizmsgcrypt-vectors.json), then the negative
/// cases of protocols.md §3.</summary>
public sealed class WeChatMessageCryptoTests
{
    private static readonly JsonElement[] Vectors = LoadVectors();

    private static string[] IdsOf(params string[] kinds) =>
        [.. Vectors.Where(v => v.GetProperty("kind").GetString()!.Split('+').Any(kinds.Contains)).Select(v => v.GetProperty("id").GetString()!)];

    private static TheoryData<string> Ids(params string[] kinds) => new(IdsOf(kinds));

    public static TheoryData<string> DecryptIds => Ids("decrypt");

    public static TheoryData<string> EncryptIds => Ids("encrypt", "encrypt_reply");

    public static TheoryData<string> VerifyUrlIds => Ids("verify_url");

    [Theory]
    [MemberData(nameof(DecryptIds))]
    public void VerifyAndDecrypt_PublishedVector_ReturnsExactPlaintext(string id)
    {
        var v = Vector(id);
        var crypto = CryptoOf(v);
        var plain = crypto.VerifyAndDecrypt(S(v, "msg_signature"), S(v, "timestamp"), S(v, "nonce"), S(v, "encrypt"));
        Assert.Equal(S(v, "expected_plaintext"), plain);
    }

    [Theory]
    [MemberData(nameof(DecryptIds))]
    public void Decrypt_PublishedPostBody_ParsesTheEncryptElementAndSignatureMatches(string id)
    {
        var v = Vector(id);
        if (!v.TryGetProperty("post_body", out var body))
        {
            return;
        }

        var outer = WeChatXml.Parse(body.GetString()!);
        Assert.Equal(S(v, "encrypt"), outer["Encrypt"]);
        Assert.True(WeChatSignature.Verify(S(v, "msg_signature"), S(v, "token"), S(v, "timestamp"), S(v, "nonce"), outer["Encrypt"]));
    }

    [Theory]
    [MemberData(nameof(EncryptIds))]
    public void Encrypt_WithFixedRandom_MatchesPublishedCiphertext(string id)
    {
        var v = Vector(id);
        var crypto = CryptoOf(v);
        var isReply = v.TryGetProperty("reply_msg", out _);
        var random = Encoding.ASCII.GetBytes(S(v, isReply ? "reply_random" : "random"));
        var encrypted = crypto.Encrypt(random, S(v, isReply ? "reply_msg" : "msg"));
        Assert.Equal(S(v, isReply ? "reply_expected_encrypt" : "expected_encrypt"), encrypted);
        if (isReply || v.TryGetProperty("expected_msg_signature", out _))
        {
            var signature = WeChatSignature.Compute(S(v, "token"), S(v, isReply ? "reply_timestamp" : "timestamp"), S(v, isReply ? "reply_nonce" : "nonce"), encrypted);
            Assert.Equal(S(v, isReply ? "reply_expected_msg_signature" : "expected_msg_signature"), signature);
        }

        Assert.Equal(S(v, isReply ? "reply_msg" : "msg"), crypto.Decrypt(encrypted));
    }

    [Theory]
    [MemberData(nameof(VerifyUrlIds))]
    public void VerifyUrl_PublishedVector_DecryptsEchostr(string id)
    {
        var v = Vector(id);
        var plain = CryptoOf(v).VerifyAndDecrypt(S(v, "msg_signature"), S(v, "timestamp"), S(v, "nonce"), S(v, "echostr"));
        Assert.Equal(S(v, "expected_echostr_plaintext"), plain);
        if (v.TryGetProperty("echostr_urlencoded", out var encoded))
        {
            Assert.Equal(S(v, "echostr"), Uri.UnescapeDataString(encoded.GetString()!));
        }
    }

    [Fact]
    public void VerifyUrl_V5aWithNegativeNonce_FailsSignature()
    {
        var v = Vector("V5a-wechatpy-verifyurl");
        var ex = Assert.Throws<WeChatCryptoException>(() =>
            CryptoOf(v).VerifyAndDecrypt(S(v, "msg_signature"), S(v, "timestamp"), S(v, "negative_nonce"), S(v, "echostr")));
        Assert.Equal(WeChatCryptoError.InvalidSignature, ex.Error);
    }

    [Fact]
    public void Signature_V4UrlSignature_MatchesThreeFieldSha1()
    {
        var v = Vector("V4-open-platform-roundtrip");
        Assert.Equal(S(v, "signature"), WeChatSignature.Compute(S(v, "token"), S(v, "timestamp"), S(v, "nonce")));
    }

    [Fact]
    public void Encrypt_V5cReplyEnvelope_MatchesWechatpyExactly()
    {
        var v = Vector("V5c-wechatpy-encrypt-reply");
        var crypto = CryptoOf(v);
        var envelope = crypto.Envelope(crypto.Encrypt(Encoding.ASCII.GetBytes(S(v, "random")), S(v, "msg")), S(v, "timestamp"), S(v, "nonce"));
        Assert.Equal(
            $"<xml>\n<Encrypt><![CDATA[{S(v, "expected_encrypt")}]]></Encrypt>\n<MsgSignature><![CDATA[{S(v, "expected_msg_signature")}]]></MsgSignature>\n<TimeStamp>1411525903</TimeStamp>\n<Nonce><![CDATA[461056294]]></Nonce>\n</xml>",
            envelope);
    }

    [Theory]
    [MemberData(nameof(DecryptIds))]
    public void VerifyAndDecrypt_OneHexDigitFlipped_FailsSignature(string id)
    {
        var v = Vector(id);
        var signature = S(v, "msg_signature");
        var flipped = (signature[0] == 'a' ? 'b' : 'a') + signature[1..];
        var ex = Assert.Throws<WeChatCryptoException>(() => CryptoOf(v).VerifyAndDecrypt(flipped, S(v, "timestamp"), S(v, "nonce"), S(v, "encrypt")));
        Assert.Equal(WeChatCryptoError.InvalidSignature, ex.Error);
    }

    [Fact]
    public void Decrypt_V1WithOtherReceiveId_FailsReceiveId()
    {
        var v = Vector("V1-wecom-decrypt");
        var crypto = new WeChatMessageCrypto(S(v, "token"), S(v, "encoding_aes_key"), "wx_other_appid");
        var ex = Assert.Throws<WeChatCryptoException>(() => crypto.Decrypt(S(v, "encrypt")));
        Assert.Equal(WeChatCryptoError.InvalidReceiveId, ex.Error);
    }

    [Theory]
    [InlineData("abcde")]
    [InlineData("")]
    [InlineData("abcdefghijklmnopqrstuvwxyz0123456789ABCDEF")]
    [InlineData("abcdefghijklmnopqrstuvwxyz0123456789ABCDEF+")]
    public void Create_KeyNotFortyThreeAlphanumerics_FailsIllegalKey(string key)
    {
        var ex = Assert.Throws<WeChatCryptoException>(() => new WeChatMessageCrypto("t", key, "wx"));
        Assert.Equal(WeChatCryptoError.InvalidAesKey, ex.Error);
    }

    [Fact]
    public void Decrypt_LengthNotMultipleOfBlock_FailsWithoutUnhandledException()
    {
        var crypto = new WeChatMessageCrypto("t", new string('A', 43), "wx");
        var ex = Assert.Throws<WeChatCryptoException>(() => crypto.Decrypt(Convert.ToBase64String(new byte[40])));
        Assert.Equal(WeChatCryptoError.DecryptFailed, ex.Error);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(33)]
    [InlineData(200)]
    public void Decrypt_PadValueOutsideOneToThirtyTwo_Fails(int pad)
    {
        var crypto = new WeChatMessageCrypto("t", new string('A', 43), "wx");
        var plain = new byte[64];
        plain[^1] = (byte)pad;
        using var aes = System.Security.Cryptography.Aes.Create();
        aes.Key = new byte[32];
        var cipher = aes.EncryptCbc(plain, new byte[16], System.Security.Cryptography.PaddingMode.None);
        var ex = Assert.Throws<WeChatCryptoException>(() => crypto.Decrypt(Convert.ToBase64String(cipher)));
        Assert.Equal(WeChatCryptoError.DecryptFailed, ex.Error);
    }

    [Theory]
    [InlineData("not base64!")]
    [InlineData("QUJD")]
    public void Decrypt_MalformedBase64OrTooShort_Fails(string encrypted)
    {
        var crypto = new WeChatMessageCrypto("t", new string('A', 43), "wx");
        Assert.Throws<WeChatCryptoException>(() => crypto.Decrypt(encrypted));
    }

    [Fact]
    public void Decrypt_LengthFieldBeyondPlaintext_FailsInvalidBuffer()
    {
        var crypto = new WeChatMessageCrypto("t", new string('A', 43), "wx");
        var plain = new byte[64];
        plain[16] = 0x7f; // length = 2^31 - ..., far past the end
        plain[^1] = 4;
        plain[^2] = 4;
        plain[^3] = 4;
        plain[^4] = 4;
        using var aes = System.Security.Cryptography.Aes.Create();
        aes.Key = new byte[32];
        var cipher = aes.EncryptCbc(plain, new byte[16], System.Security.Cryptography.PaddingMode.None);
        var ex = Assert.Throws<WeChatCryptoException>(() => crypto.Decrypt(Convert.ToBase64String(cipher)));
        Assert.Equal(WeChatCryptoError.InvalidBuffer, ex.Error);
    }

    [Fact]
    public void Vectors_AllEightArePresentAndCovered() =>
        Assert.Equal(8, IdsOf("decrypt", "encrypt", "encrypt_reply", "verify_url").Length);

    [Fact]
#pragma warning disable CA5350 // WeChat's protocol is SHA-1
    public void Signature_SortsOrdinallyNotByCulture()
    {
        // Ordinal: "1409659813" < "Bxyz" < "abc"; a culture-aware sort puts "abc" before "Bxyz".
        var expected = Convert.ToHexStringLower(System.Security.Cryptography.SHA1.HashData(Encoding.UTF8.GetBytes("1409659813Bxyzabc")));
        Assert.Equal(expected, WeChatSignature.Compute("abc", "Bxyz", "1409659813"));
        Assert.NotEqual(Convert.ToHexStringLower(System.Security.Cryptography.SHA1.HashData(Encoding.UTF8.GetBytes("1409659813abcBxyz"))), expected);
    }

#pragma warning restore CA5350

    [Fact]
    public void Signature_UpperCaseHexOrWrongLength_HandledWithoutThrowing()
    {
        var signature = WeChatSignature.Compute("a", "b", "c");
        Assert.True(WeChatSignature.Verify(signature.ToUpperInvariant(), "a", "b", "c"));
        Assert.False(WeChatSignature.Verify(signature[..39], "a", "b", "c"));
        Assert.False(WeChatSignature.Verify(null, "a", "b", "c"));
    }

    [Theory]
    [InlineData("<!DOCTYPE xml [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]><xml><Content>&xxe;</Content></xml>")]
    [InlineData("<!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol2 \"&lol;&lol;\">]><xml><Content>&lol2;</Content></xml>")]
    [InlineData("<xml><Content>unclosed</xml>")]
    [InlineData("")]
    [InlineData("not xml")]
    public void Xml_HostileOrMalformed_RejectedAsInvalidXml(string xml)
    {
        var ex = Assert.Throws<WeChatCryptoException>(() => WeChatXml.Parse(xml));
        Assert.Equal(WeChatCryptoError.InvalidXml, ex.Error);
    }

    [Fact]
    public void Xml_CdataAndNestedFields_AreRead()
    {
        var fields = WeChatXml.Parse("<xml><ToUserName><![CDATA[gh_1]]></ToUserName><CreateTime>12</CreateTime><Image><MediaId><![CDATA[m1]]></MediaId></Image><Empty/></xml>");
        Assert.Equal("gh_1", fields["ToUserName"]);
        Assert.Equal("12", fields["CreateTime"]);
        Assert.Equal("m1", fields["MediaId"]);
        Assert.Equal("", fields["Empty"]);
    }

    private static WeChatMessageCrypto CryptoOf(JsonElement v) => new(S(v, "token"), S(v, "encoding_aes_key"), S(v, "receiveid"));

    private static JsonElement Vector(string id) => Vectors.Single(v => v.GetProperty("id").GetString() == id);

    private static string S(JsonElement v, string name) => v.GetProperty(name).GetString()!;

    private static JsonElement[] LoadVectors()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Channels", "WeChatCrypto", "wxbizmsgcrypt-vectors.json");
        using var document = JsonDocument.Parse(File.ReadAllText(path));
        return [.. document.RootElement.GetProperty("vectors").EnumerateArray().Select(e => e.Clone())];
    }
}
