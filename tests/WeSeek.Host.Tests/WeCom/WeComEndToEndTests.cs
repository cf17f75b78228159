using System.Globalization;
using System.Net;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using WeSeek.Channels.WeChatCrypto;
using WeSeek.Conversations;
using WeSeek.Host.Tests.WebChat;
using WeSeek.Media;
using WeSeek.Messaging;
using WeSeek.Pipeline;
using WeSeek.TestKit;

namespace WeSeek.Host.Tests.WeCom;

/// <summary>企业微信 callbacks through the whole product (Kestrel on loopback, SQLite, pipeline, outbox) against
/// the fake WeCom server; the crypto on both sides is the one checked against the published vectors.</summary>
public sealed class WeComEndToEndTests
{
    private const string Token = "wecomtoken";
    private const string AesKey = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C";
    private const string CorpId = "ww0123456789abcdef";
    private const string Secret = "app-secret";
    private const int AgentId = 1000002;
    private const string Path = "/wechat/wecom/demo";
    private const string User = "zhangsan";
    private static readonly WeChatMessageCrypto Crypto = new(Token, AesKey, CorpId);

    [Fact]
    public async Task UrlVerification_SignedEncryptedEchostr_AnswersTheBarePlaintext()
    {
        await using var env = await Env.StartAsync();
        var (url, plain) = FakeWeComServer.VerifyUrl(Path, Crypto, TimeProvider.System.GetUtcNow(), "263014780");

        var response = await env.Http.GetAsync(url);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        // Byte for byte: no quotes, no BOM, no newline ("不能加引号，不能带bom头，不能带换行符").
        Assert.Equal(Encoding.ASCII.GetBytes(plain), await response.Content.ReadAsByteArrayAsync());
    }

    [Theory]
    [InlineData("bad-signature", HttpStatusCode.Forbidden)]
    [InlineData("other-corp", HttpStatusCode.Forbidden)]
    [InlineData("stale-timestamp", HttpStatusCode.Forbidden)]
    [InlineData("no-echostr", HttpStatusCode.BadRequest)]
    [InlineData("unknown-app", HttpStatusCode.NotFound)]
    public async Task UrlVerification_Invalid_Refused(string attack, HttpStatusCode expected)
    {
        await using var env = await Env.StartAsync();
        var now = TimeProvider.System.GetUtcNow();
        var (url, _) = attack switch
        {
            "other-corp" => FakeWeComServer.VerifyUrl(Path, new WeChatMessageCrypto(Token, AesKey, "ww_other_corp"), now, "1"),
            "stale-timestamp" => FakeWeComServer.VerifyUrl(Path, Crypto, now.AddMinutes(-6), "1"),
            _ => FakeWeComServer.VerifyUrl(Path, Crypto, now, "1"),
        };
        url = attack switch
        {
            "bad-signature" => url.Replace("msg_signature=", "msg_signature=0", StringComparison.Ordinal).Remove(url.IndexOf("msg_signature=", StringComparison.Ordinal) + 54, 1),
            "no-echostr" => url[..url.IndexOf("&echostr=", StringComparison.Ordinal)],
            "unknown-app" => url.Replace("/demo?", "/nobody?", StringComparison.Ordinal),
            _ => url,
        };

        var response = await env.Http.GetAsync(url);

        Assert.Equal(expected, response.StatusCode);
        Assert.Equal("", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task StartUp_AppWithoutCorpSecret_FailsNamingTheEnvironmentVariable()
    {
        using var data = new TempDirectory();
        var error = await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            await using var app = await WebChatEndToEndTests.StartAsync(data, null,
                "--WeCom:Apps:demo:Token=" + Token, "--WeCom:Apps:demo:EncodingAesKey=" + AesKey, "--WeCom:Apps:demo:CorpId=" + CorpId, "--WeCom:Apps:demo:AgentId=1");
        });

        Assert.Contains("WESEEK__WeCom__Apps__demo__CorpSecret", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Callback_AnswerReadyWithinBudget_ComesBackAsEncryptedPassiveReply()
    {
        await using var env = await Env.StartAsync();
        var response = await env.PostTextAsync("你好", msgId: 1);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var reply = DecryptReply(await response.Content.ReadAsStringAsync());
        Assert.Equal("答：你好", reply["Content"]);
        Assert.Equal(User, reply["ToUserName"]);
        Assert.Equal(CorpId, reply["FromUserName"]);
        Assert.Equal("text", reply["MsgType"]);
        Assert.Equal(AgentId.ToString(CultureInfo.InvariantCulture), reply["AgentID"]);
        Assert.Empty(env.WeCom.SentTexts);
    }

    [Fact]
    public async Task Callback_AnswerAfterBudget_ReturnsEmptyThenSendsThroughMessageSend()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var env = await Env.StartAsync(model => model.OnCall = (_, ct) => gate.Task.WaitAsync(ct), "--WeCom:PassiveReplyBudget=00:00:00.200");
        var response = await env.PostTextAsync("慢一点", msgId: 2);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("", await response.Content.ReadAsStringAsync());
        gate.SetResult();
        await env.WaitForSentAsync(1);
        Assert.Equal(["答：慢一点"], env.WeCom.SentTexts);
        var sent = Assert.Single(env.WeCom.SentBodies);
        Assert.Equal(User, sent["touser"]!.GetValue<string>());
        Assert.Equal("text", sent["msgtype"]!.GetValue<string>());
        Assert.Equal(AgentId, sent["agentid"]!.GetValue<int>());
        Assert.Equal(1, sent["enable_duplicate_check"]!.GetValue<int>());
        Assert.Equal(300, sent["duplicate_check_interval"]!.GetValue<int>());
        Assert.Single(env.WeCom.Calls, c => c.Path.EndsWith("gettoken", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Callback_RetriedByWeCom_OneModelCallOneReply()
    {
        await using var env = await Env.StartAsync();
        var now = TimeProvider.System.GetUtcNow();
        var first = await env.PostTextAsync("重复", msgId: 3, at: now);
        var retry = await env.PostTextAsync("重复", msgId: 3, at: now.AddSeconds(5));

        // However busy the machine, the answer goes out once: in one of the two callbacks or through message/send.
        var passive = new[] { await first.Content.ReadAsStringAsync(), await retry.Content.ReadAsStringAsync() }.Where(b => b.Length > 0).ToList();
        if (passive.Count == 0)
        {
            await env.WaitForSentAsync(1);
        }

        Assert.Equal(HttpStatusCode.OK, retry.StatusCode);
        Assert.Equal(["答：重复"], passive.Select(b => DecryptReply(b)["Content"]).Concat(env.WeCom.SentTexts));
        Assert.Single(env.Model.Calls);
    }

    [Fact]
    public async Task MessageSend_TokenExpiresMidConversation_RefreshesOnceAndDelivers()
    {
        await using var env = await Env.StartAsync(null, "--WeCom:PassiveReplyBudget=00:00:00");
        await env.PostTextAsync("一", msgId: 4);
        await env.WaitForSentAsync(1);
        env.WeCom.ExpireToken();
        await env.PostTextAsync("二", msgId: 5);
        await env.WaitForSentAsync(2);

        Assert.Equal(["答：一", "答：二"], env.WeCom.SentTexts);
        Assert.Equal(2, env.WeCom.Calls.Count(c => c.Path.EndsWith("gettoken", StringComparison.Ordinal)));
        Assert.Single(env.WeCom.Calls, c => c.ErrorCode == 42001);
    }

    [Fact]
    public async Task MessageSend_RateLimited45009_RecordedAndNotRetried()
    {
        await using var env = await Env.StartAsync(null, "--WeCom:PassiveReplyBudget=00:00:00", "--Outbox:RetryDelay=00:00:00.050");
        env.WeCom.FailNextSends(45009);
        await env.PostTextAsync("第一问", msgId: 6);
        await WeSeekTestHost.WaitUntilAsync(() => env.WeCom.Calls.Any(c => c.ErrorCode == 45009));
        // The chat's next reply waits behind a failed one that is still being retried; it goes out only
        // once the first is given up, so its delivery shows the outcome without waiting on a clock.
        await env.PostTextAsync("第二问", msgId: 7);
        await env.WaitForSentAsync(1);

        Assert.Equal(["答：第二问"], env.WeCom.SentTexts);
        Assert.Single(env.WeCom.Calls, c => c.Path.EndsWith("message/send", StringComparison.Ordinal) && c.Body["text"]!["content"]!.GetValue<string>() == "答：第一问");
        var transcript = await env.TranscriptAsync();
        Assert.Contains(transcript, e => !e.FromUser && e.Text == "答：第一问" && !e.Delivered);
    }

    [Fact]
    public async Task MessageSend_SystemBusy_BacksOffAndDelivers()
    {
        await using var env = await Env.StartAsync(null, "--WeCom:PassiveReplyBudget=00:00:00", "--Outbox:RetryDelay=00:00:00.050");
        env.WeCom.FailNextSends(-1);
        await env.PostTextAsync("忙吗", msgId: 8);
        await env.WaitForSentAsync(1);

        Assert.Equal(["答：忙吗"], env.WeCom.SentTexts);
        Assert.Equal(2, env.WeCom.Calls.Count(c => c.Path.EndsWith("message/send", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task SubscribeEvent_WithWelcomeText_GreetsWithoutAModelCall()
    {
        await using var env = await Env.StartAsync(null, "--WeCom:Apps:demo:WelcomeText=欢迎使用");
        var response = await env.PostAsync(FakeWeComServer.EventMessage(CorpId, User, "subscribe", TimeProvider.System.GetUtcNow(), AgentId));

        Assert.Equal("欢迎使用", DecryptReply(await response.Content.ReadAsStringAsync())["Content"]);
        Assert.Empty(env.Model.Calls);
        Assert.Single(await env.StoredChatsAsync());
    }

    [Theory]
    [InlineData("enter_agent")]
    [InlineData("subscribe")]
    [InlineData("unsubscribe")]
    [InlineData("some_future_event")]
    public async Task Event_NotAQuestion_StoredAndAnsweredEmpty(string name)
    {
        await using var env = await Env.StartAsync();
        var response = await env.PostAsync(FakeWeComServer.EventMessage(CorpId, User, name, TimeProvider.System.GetUtcNow(), AgentId));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("", await response.Content.ReadAsStringAsync());
        Assert.Single(await env.StoredChatsAsync());
        Assert.Empty(env.Model.Calls);
    }

    [Fact]
    public async Task ClickEvent_AnsweredAsTheMenuChoice()
    {
        await using var env = await Env.StartAsync();
        var response = await env.PostAsync(FakeWeComServer.EventMessage(CorpId, User, "click", TimeProvider.System.GetUtcNow(), AgentId, "HELP"));

        Assert.Contains("HELP", await env.AnswerAsync(response), StringComparison.Ordinal);
        Assert.Single(env.Model.Calls);
    }

    [Fact]
    public async Task ClickEvent_RetriedByWeCom_KnownBySenderTimeAndEvent_OneModelCall()
    {
        await using var env = await Env.StartAsync();
        var at = TimeProvider.System.GetUtcNow();
        var xml = FakeWeComServer.EventMessage(CorpId, User, "click", at, AgentId, "HELP");
        var first = await env.PostAsync(xml, at);
        var retry = await env.PostAsync(xml, at.AddSeconds(5));
        // A different event in the same second is a different event.
        var other = await env.PostAsync(FakeWeComServer.EventMessage(CorpId, User, "enter_agent", at, AgentId), at.AddSeconds(5));

        Assert.All([first, retry, other], r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        Assert.Single(env.Model.Calls);
        Assert.Equal(2, (await env.TranscriptAsync()).Count(e => e.FromUser));
    }

    [Fact]
    public async Task Callback_ReplayedWithTheSameTimestampNonceAndSignature_SecondReturns403()
    {
        await using var env = await Env.StartAsync();
        var now = TimeProvider.System.GetUtcNow();
        var (url, body) = FakeWeComServer.Callback(Path, Crypto, CorpId, AgentId, FakeWeComServer.TextMessage(CorpId, User, "once", 93, now, AgentId), now, "6160");

        var first = await env.Http.PostAsync(url, new StringContent(body, Encoding.UTF8, "text/xml"));
        var replay = await env.Http.PostAsync(url, new StringContent(body, Encoding.UTF8, "text/xml"));

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, replay.StatusCode);
        Assert.Single(env.Model.Calls);
    }

    [Theory]
    [InlineData("image", "[图片] http://p.qpic.cn/x.jpg")]
    [InlineData("location", "[位置] 深圳 (22.5, 113.9)")]
    [InlineData("link", "[链接] 标题")]
    public async Task OtherMessageKinds_RenderedForTheModel(string type, string expectedStart)
    {
        await using var env = await Env.StartAsync();
        (string, string)[] fields = type switch
        {
            "image" => [("PicUrl", "http://p.qpic.cn/x.jpg"), ("MediaId", "m-1")],
            "location" => [("Location_X", "22.5"), ("Location_Y", "113.9"), ("Scale", "15"), ("Label", "深圳")],
            _ => [("Title", "标题"), ("Description", "描述"), ("Url", "https://example.com"), ("PicUrl", "")],
        };
        var response = await env.PostAsync(FakeWeComServer.Message(CorpId, User, type, 9, TimeProvider.System.GetUtcNow(), AgentId, fields));

        Assert.StartsWith("答：" + expectedStart, await env.AnswerAsync(response), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ImageMessage_FetchedThroughTheMediaApi_ReachesTheTurn()
    {
        var seen = new List<MediaFeature?>();
        var png = new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 5, 6, 7, 8 };
        await using var env = await Env.StartAsync(null, services =>
        {
            services.RemoveAll<TurnPipeline>();
            services.AddSingleton(new TurnPipeline(WeSeekServiceCollectionExtensions.BuildStandardPipeline().Use(next => turn =>
            {
                lock (seen)
                {
                    seen.Add(turn.Features.Get<MediaFeature>());
                }

                return next(turn);
            }).Build()));
        });
        env.WeCom.AddMedia("media-1", png, "image/png");

        var response = await env.PostAsync(FakeWeComServer.Message(CorpId, User, "image", 11, TimeProvider.System.GetUtcNow(), AgentId, ("PicUrl", "http://p.qpic.cn/1.jpg"), ("MediaId", "media-1")));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await WeSeekTestHost.WaitUntilAsync(() =>
        {
            lock (seen)
            {
                return seen.Count > 0;
            }
        });
        var image = Assert.Single(Assert.Single(seen)!.Images);
        Assert.Equal("image/png", image.MediaType);
        Assert.Equal(png, image.Data.ToArray());
        Assert.Contains(env.WeCom.Calls, c => c.Path.EndsWith("media/get", StringComparison.Ordinal) && c.ErrorCode == 0);
    }

    [Theory]
    [InlineData("voice")]
    [InlineData("video")]
    [InlineData("hologram")]
    public async Task UnansweredKinds_StoredAndIgnoredPolitely(string type)
    {
        await using var env = await Env.StartAsync();
        var response = await env.PostAsync(FakeWeComServer.Message(CorpId, User, type, 10, TimeProvider.System.GetUtcNow(), AgentId, ("MediaId", "m-2")));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("", await response.Content.ReadAsStringAsync());
        Assert.Single(await env.StoredChatsAsync());
        Assert.Empty(env.Model.Calls);
    }

    [Theory]
    [InlineData("bad-signature", HttpStatusCode.Forbidden)]
    [InlineData("missing-signature", HttpStatusCode.Forbidden)]
    [InlineData("plain-signature-only", HttpStatusCode.Forbidden)]
    [InlineData("stale-timestamp", HttpStatusCode.Forbidden)]
    [InlineData("future-timestamp", HttpStatusCode.Forbidden)]
    [InlineData("xxe-envelope", HttpStatusCode.BadRequest)]
    [InlineData("xxe-inside", HttpStatusCode.BadRequest)]
    [InlineData("oversized", HttpStatusCode.RequestEntityTooLarge)]
    [InlineData("malformed-xml", HttpStatusCode.BadRequest)]
    [InlineData("no-encrypt", HttpStatusCode.BadRequest)]
    [InlineData("malformed-base64", HttpStatusCode.BadRequest)]
    [InlineData("bad-padding", HttpStatusCode.BadRequest)]
    [InlineData("wrong-receiveid", HttpStatusCode.Forbidden)]
    [InlineData("missing-fields", HttpStatusCode.BadRequest)]
    [InlineData("unknown-app", HttpStatusCode.NotFound)]
    public async Task Callback_HostileInput_Gets4xxAndStoresNothing(string attack, HttpStatusCode expected)
    {
        await using var env = await Env.StartAsync();
        var now = TimeProvider.System.GetUtcNow();
        var xml = FakeWeComServer.TextMessage(CorpId, User, "hi", 77, now, AgentId);
        var (url, body) = FakeWeComServer.Callback(Path, Crypto, CorpId, AgentId, xml, now, "123");
        var ts = now.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        switch (attack)
        {
            case "bad-signature":
                url = url.Replace("msg_signature=", "msg_signature=0", StringComparison.Ordinal).Remove(url.IndexOf("msg_signature=", StringComparison.Ordinal) + 54, 1);
                break;
            case "missing-signature":
                url = $"{Path}?timestamp={ts}&nonce=123";
                break;
            case "plain-signature-only":
                // The 公众号's 3-field signature proves nothing here: WeCom signs the ciphertext.
                url = $"{Path}?signature={WeChatSignature.Compute(Token, ts, "123")}&timestamp={ts}&nonce=123";
                break;
            case "stale-timestamp":
                (url, body) = FakeWeComServer.Callback(Path, Crypto, CorpId, AgentId, xml, now.AddMinutes(-6), "123");
                break;
            case "future-timestamp":
                (url, body) = FakeWeComServer.Callback(Path, Crypto, CorpId, AgentId, xml, now.AddMinutes(6), "123");
                break;
            case "xxe-envelope":
                body = "<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>" + body.Replace("<ToUserName><![CDATA[" + CorpId + "]]>", "<ToUserName>&e;", StringComparison.Ordinal);
                break;
            case "xxe-inside":
                (url, body) = FakeWeComServer.Callback(Path, Crypto, CorpId, AgentId, "<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>" + xml.Replace("hi", "&e;", StringComparison.Ordinal), now, "123");
                break;
            case "oversized":
                body = body.Replace("</xml>", new string(' ', 70_000) + "</xml>", StringComparison.Ordinal);
                break;
            case "malformed-xml":
                body = "<xml><Encrypt>";
                break;
            case "no-encrypt":
                body = xml;
                url = $"{Path}?msg_signature={WeChatSignature.Compute(Token, ts, "123", "")}&timestamp={ts}&nonce=123";
                break;
            case "malformed-base64":
                url = $"{Path}?timestamp={ts}&nonce=1&msg_signature={WeChatSignature.Compute(Token, ts, "1", "!!notbase64!!")}";
                body = "<xml><Encrypt><![CDATA[!!notbase64!!]]></Encrypt></xml>";
                break;
            case "bad-padding":
                // 32 bytes that are valid Base64, signed, but decrypt to garbage padding.
                var junk = Convert.ToBase64String(new byte[32]);
                url = $"{Path}?timestamp={ts}&nonce=1&msg_signature={WeChatSignature.Compute(Token, ts, "1", junk)}";
                body = $"<xml><Encrypt><![CDATA[{junk}]]></Encrypt></xml>";
                break;
            case "wrong-receiveid":
                (url, body) = FakeWeComServer.Callback(Path, new WeChatMessageCrypto(Token, AesKey, "ww_other_corp"), CorpId, AgentId, xml, now, "123");
                break;
            case "missing-fields":
                (url, body) = FakeWeComServer.Callback(Path, Crypto, CorpId, AgentId, "<xml><Content>hi</Content></xml>", now, "123");
                break;
            case "unknown-app":
                url = url.Replace("/demo?", "/nobody?", StringComparison.Ordinal);
                break;
        }

        var response = await env.Http.PostAsync(url, new StringContent(body, Encoding.UTF8, "text/xml"));

        Assert.Equal(expected, response.StatusCode);
        Assert.Empty(await env.StoredChatsAsync());
        Assert.Empty(env.Model.Calls);
    }

    [Fact]
    public async Task Callback_RandomBodiesAndSignatures_NeverA5xxAndNothingStored()
    {
        await using var env = await Env.StartAsync();
        var random = new Random(20261129);
        var now = TimeProvider.System.GetUtcNow().ToUnixTimeSeconds();
        var pieces = new[] { "<xml>", "</xml>", "<Encrypt>", "</Encrypt>", "<![CDATA[", "]]>", "<!DOCTYPE", "&", "<AgentID>", "MsgType", "==", "\0", "中文", "<", ">" };
        for (var i = 0; i < 200; i++)
        {
            var body = new StringBuilder();
            for (var j = random.Next(0, 30); j > 0; j--)
            {
                body.Append(random.Next(3) == 0 ? Convert.ToBase64String(BitConverter.GetBytes(random.NextInt64())) : pieces[random.Next(pieces.Length)]);
            }

            var signature = Convert.ToHexStringLower(BitConverter.GetBytes(random.NextInt64())).PadRight(40, 'a');
            var response = await env.Http.PostAsync($"{Path}?msg_signature={signature}&timestamp={now}&nonce={random.Next()}", new StringContent(body.ToString(), Encoding.UTF8, "text/xml"));
            Assert.InRange((int)response.StatusCode, 400, 499);
        }

        Assert.Empty(await env.StoredChatsAsync());
    }

    private static Dictionary<string, string> DecryptReply(string body)
    {
        var envelope = WeChatXml.Parse(body);
        return WeChatXml.Parse(Crypto.VerifyAndDecrypt(envelope["MsgSignature"], envelope["TimeStamp"], envelope["Nonce"], envelope["Encrypt"]));
    }

    /// <summary>The host with the 企业微信 app <c>demo</c>, against a fake WeCom server of its own.</summary>
    private sealed class Env(WeSeekTestHost host, FakeWeComServer weCom, ScriptedChatClient model) : IAsyncDisposable
    {
        public FakeWeComServer WeCom => weCom;

        public ScriptedChatClient Model => model;

        public HttpClient Http => host.Http;

        public static Task<Env> StartAsync(Action<ScriptedChatClient>? setup = null, params string[] extra) => StartAsync(setup, null, extra);

        public static async Task<Env> StartAsync(Action<ScriptedChatClient>? setup, Action<IServiceCollection>? configure, params string[] extra)
        {
            var weCom = await FakeWeComServer.StartAsync(CorpId, Secret);
            var model = ScriptedChatClient.Echo();
            setup?.Invoke(model);
            var host = await WeSeekTestHost.StartAsync(
            [
                "--WeCom:Apps:demo:Token=" + Token,
                "--WeCom:Apps:demo:EncodingAesKey=" + AesKey,
                "--WeCom:Apps:demo:CorpId=" + CorpId,
                "--WeCom:Apps:demo:CorpSecret=" + Secret,
                "--WeCom:Apps:demo:AgentId=" + AgentId.ToString(CultureInfo.InvariantCulture),
                "--WeCom:ApiBaseUrl=" + weCom.BaseUrl,
                // The longest budget allowed: "answer ready" must not depend on how busy the machine is.
                "--WeCom:PassiveReplyBudget=00:00:04.800",
                .. extra,
            ], model, configure);
            return new Env(host, weCom, model);
        }

        public Task<HttpResponseMessage> PostTextAsync(string text, long msgId, DateTimeOffset? at = null)
        {
            var now = at ?? TimeProvider.System.GetUtcNow();
            return PostAsync(FakeWeComServer.TextMessage(CorpId, User, text, msgId, now, AgentId), now);
        }

        public Task<HttpResponseMessage> PostAsync(string xml, DateTimeOffset? at = null)
        {
            var (url, body) = FakeWeComServer.Callback(Path, Crypto, CorpId, AgentId, xml, at ?? TimeProvider.System.GetUtcNow(), FakeWeChatServer.NextNonce());
            return Http.PostAsync(url, new StringContent(body, Encoding.UTF8, "text/xml"));
        }

        /// <summary>The answer to the first question of a test: the passive reply, or, when the machine was too busy
        /// for the budget, the message/send that followed.</summary>
        public async Task<string> AnswerAsync(HttpResponseMessage response)
        {
            var body = await response.Content.ReadAsStringAsync();
            if (body.Length > 0)
            {
                return DecryptReply(body)["Content"];
            }

            await WaitForSentAsync(1);
            return WeCom.SentTexts[0];
        }

        public Task WaitForSentAsync(int count) => WeSeekTestHost.WaitUntilAsync(() => WeCom.SentTexts.Count >= count);

        public async Task<IReadOnlyList<TranscriptEntry>> TranscriptAsync() =>
            await host.GetRequiredService<ITranscriptReader>().ReadAsync(ChannelId.From("wecom:demo"), User, 100, CancellationToken.None);

        public async Task<IReadOnlyList<ChatSummary>> StoredChatsAsync() =>
            await host.GetRequiredService<ITranscriptReader>().ListChatsAsync(ChannelId.From("wecom:demo"), 100, CancellationToken.None);

        public async ValueTask DisposeAsync()
        {
            await host.DisposeAsync();
            await weCom.DisposeAsync();
        }
    }
}
