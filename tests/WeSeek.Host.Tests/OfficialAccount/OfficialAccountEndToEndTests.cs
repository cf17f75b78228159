using System.Net;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using WeSeek.Channels.WeChatCrypto;
using WeSeek.Conversations;
using WeSeek.Media;
using WeSeek.Host.Tests.WebChat;
using WeSeek.Messaging;
using WeSeek.Pipeline;
using WeSeek.TestKit;

namespace WeSeek.Host.Tests.OfficialAccount;

/// <summary>公众号 callbacks through the whole product (Kestrel on loopback, SQLite, pipeline, outbox) against
/// the fake WeChat server; the crypto on both sides is the one checked against the published vectors.</summary>
public sealed class OfficialAccountEndToEndTests
{
    private const string Token = "weseektoken";
    private const string AesKey = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
    private const string AppId = "wx0123456789abcdef";
    private const string Path = "/wechat/mp/demo";
    private static readonly WeChatMessageCrypto Crypto = new(Token, AesKey, AppId);

    [Fact]
    public async Task SafeModeCallback_AnswerReadyWithinBudget_ComesBackAsEncryptedPassiveReply()
    {
        await using var env = await Env.StartAsync();
        var response = await env.PostMessageAsync("你好", msgId: 1, crypto: Crypto);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var envelope = WeChatXml.Parse(await response.Content.ReadAsStringAsync());
        var reply = WeChatXml.Parse(Crypto.VerifyAndDecrypt(envelope["MsgSignature"], envelope["TimeStamp"], envelope["Nonce"], envelope["Encrypt"]));
        Assert.Equal("答：你好", reply["Content"]);
        Assert.Equal("o-user", reply["ToUserName"]);
        Assert.Equal("gh_demo", reply["FromUserName"]);
        Assert.Empty(env.WeChat.SentTexts);
    }

    [Fact]
    public async Task CompatibleModeAccount_PlaintextCallback_AnswerComesBackAsPlainXml()
    {
        await using var env = await Env.StartAsync(null, "--OfficialAccount:Accounts:demo:Mode=Compatible");
        var response = await env.PostMessageAsync("在吗", msgId: 2, crypto: null);

        var reply = WeChatXml.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("答：在吗", reply["Content"]);
    }

    [Fact]
    public async Task SafeModeAccount_ForgedPlaintextBodyWithValidUrlSignature_Returns403AndStoresNothing()
    {
        // The attack: the 3-field signature of one real callback URL (a proxy's access log) does not cover the
        // body, so a plaintext body in any user's name passes it. An EncodingAesKey makes the account safe-mode.
        await using var env = await Env.StartAsync();
        var now = TimeProvider.System.GetUtcNow();
        var (url, body) = FakeWeChatServer.Callback(Path, Token, null, FakeWeChatServer.TextMessage("gh_demo", "o-victim", "forged", 90, now), now, "5150", "o-victim");

        var response = await env.Http.PostAsync(url, new StringContent(body, Encoding.UTF8, "text/xml"));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Empty(await env.StoredChatsAsync());
        Assert.Empty(env.Model.Calls);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Callback_ReplayedWithTheSameTimestampNonceAndSignature_SecondReturns403(bool encrypted)
    {
        await using var env = await Env.StartAsync(null, "--OfficialAccount:Accounts:demo:Mode=Compatible");
        var now = TimeProvider.System.GetUtcNow();
        var (url, body) = FakeWeChatServer.Callback(Path, Token, encrypted ? Crypto : null, FakeWeChatServer.TextMessage("gh_demo", "o-user", "once", 91, now), now, "6160", "o-user");
        var (_, otherBody) = FakeWeChatServer.Callback(Path, Token, encrypted ? Crypto : null, FakeWeChatServer.TextMessage("gh_demo", "o-user", "twice", 92, now), now, "6160", "o-user");

        var first = await env.Http.PostAsync(url, new StringContent(body, Encoding.UTF8, "text/xml"));
        // Another body under the same query: refused in both modes, even where the signature does not cover it.
        var replay = await env.Http.PostAsync(url, new StringContent(encrypted ? body : otherBody, Encoding.UTF8, "text/xml"));

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, replay.StatusCode);
        Assert.Single(env.Model.Calls);
    }

    [Fact]
    public async Task SafeModeAccount_WithoutEncodingAesKey_StopsStartWithTheKey()
    {
        using var data = new TempDirectory();
        var error = await Assert.ThrowsAnyAsync<Exception>(() => WebChatEndToEndTests.StartAsync(data, _ => { },
        [
            "--OfficialAccount:Accounts:demo:Token=" + Token,
            "--OfficialAccount:Accounts:demo:AppId=" + AppId,
            "--OfficialAccount:Accounts:demo:AppSecret=secret",
            "--OfficialAccount:Accounts:demo:Mode=Safe",
        ]));

        Assert.Contains("WESEEK__OfficialAccount__Accounts__demo__EncodingAesKey", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Callback_AnswerAfterBudget_ReturnsSuccessThenSendsThroughCustomerServiceApi()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var env = await Env.StartAsync(model => model.OnCall = (_, ct) => gate.Task.WaitAsync(ct), "--OfficialAccount:PassiveReplyBudget=00:00:00.200", "--OfficialAccount:TypingDelay=00:00:00.050");
        var response = await env.PostMessageAsync("慢一点", msgId: 3, crypto: Crypto);

        Assert.Equal("success", await response.Content.ReadAsStringAsync());
        gate.SetResult();
        await env.WaitForSentAsync(1);
        Assert.Equal(["答：慢一点"], env.WeChat.SentTexts);
        Assert.Contains(env.WeChat.Calls, c => c.Path.EndsWith("custom/typing", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Callback_RetriedByWeChat_OneModelCallOneReply()
    {
        await using var env = await Env.StartAsync();
        var first = await env.PostMessageAsync("重复", msgId: 4, crypto: Crypto);
        var retry = await env.PostMessageAsync("重复", msgId: 4, crypto: Crypto);

        Assert.StartsWith("<xml>", await first.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal("success", await retry.Content.ReadAsStringAsync());
        Assert.Single(env.Model.Calls);
        Assert.Empty(env.WeChat.SentTexts);
    }

    [Fact]
    public async Task CustomerServiceSend_TokenExpiresMidConversation_RefreshesOnceAndDelivers()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var env = await Env.StartAsync(model => model.OnCall = (_, ct) => gate.Task.WaitAsync(ct), "--OfficialAccount:PassiveReplyBudget=00:00:00", "--OfficialAccount:Accounts:demo:Typing=false");
        gate.SetResult();
        await env.PostMessageAsync("一", msgId: 5, crypto: Crypto);
        await env.WaitForSentAsync(1);
        env.WeChat.ExpireToken();
        await env.PostMessageAsync("二", msgId: 6, crypto: Crypto);
        await env.WaitForSentAsync(2);

        Assert.Equal(["答：一", "答：二"], env.WeChat.SentTexts);
        Assert.Equal(2, env.WeChat.Calls.Count(c => c.Path.EndsWith("stable_token", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task LongAnswer_SplitWithinBudget_RestWaitsForContinue()
    {
        await using var env = await Env.StartAsync();
        // Echoed back: about 3,900 characters, more than the five 600-character messages one trigger may get.
        var question = string.Join("\n", Enumerable.Range(1, 30).Select(i => $"第{i}条：" + string.Concat(Enumerable.Repeat("请把这句话原样返回。", 12))));

        var response = await env.PostMessageAsync(question, msgId: 8, crypto: Crypto);
        var passive = DecryptReply(await response.Content.ReadAsStringAsync());
        await env.WaitForSentAsync(4);
        var firstPage = new[] { passive }.Concat(env.WeChat.SentTexts).ToList();
        Assert.Equal(5, firstPage.Count);
        Assert.Matches(@"回复「继续」查看剩余 \(2/\d+\)$", firstPage[^1]);

        var next = await env.PostMessageAsync("继续", msgId: 9, crypto: Crypto);
        var secondPassive = DecryptReply(await next.Content.ReadAsStringAsync());

        Assert.StartsWith("第", secondPassive, StringComparison.Ordinal);
        Assert.Single(env.Model.Calls);
        Assert.All(firstPage.Append(secondPassive), m => Assert.InRange(Encoding.UTF8.GetByteCount(m), 1, 2048));
    }

    [Fact]
    public async Task ImageMessage_FetchedThroughTheMediaApi_ReachesTheTurn()
    {
        var seen = new List<MediaFeature?>();
        var png = new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 1, 2, 3, 4 };
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
        env.WeChat.AddMedia("media-1", png, "image/png");
        var now = TimeProvider.System.GetUtcNow();
        var (url, body) = FakeWeChatServer.Callback(Path, Token, Crypto, FakeWeChatServer.ImageMessage("gh_demo", "o-user", "media-1", 10, now), now, "77", "o-user");

        var response = await env.Http.PostAsync(url, new StringContent(body, Encoding.UTF8, "text/xml"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var image = Assert.Single(Assert.Single(seen)!.Images);
        Assert.Equal("image/png", image.MediaType);
        Assert.Equal(png, image.Data.ToArray());
        Assert.Contains(env.WeChat.Calls, c => c.Path.EndsWith("media/get", StringComparison.Ordinal) && c.Body["media_id"]!.GetValue<string>() == "media-1");
    }

    [Fact]
    public async Task ImageMessage_MediaExpired_TurnStillAnswered()
    {
        await using var env = await Env.StartAsync();
        var now = TimeProvider.System.GetUtcNow();
        var (url, body) = FakeWeChatServer.Callback(Path, Token, Crypto, FakeWeChatServer.ImageMessage("gh_demo", "o-user", "gone", 11, now), now, "78", "o-user");

        var response = await env.Http.PostAsync(url, new StringContent(body, Encoding.UTF8, "text/xml"));

        Assert.StartsWith("答：[图片]", DecryptReply(await response.Content.ReadAsStringAsync()), StringComparison.Ordinal);
    }

    [Fact]
    public async Task PassiveOnly_AnswerNotReady_PlaceholderThenTheNextMessageFetchesIt()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var env = await Env.StartAsync(
            model => model.OnCall = (_, ct) => gate.Task.WaitAsync(ct),
            "--OfficialAccount:Accounts:demo:ReplyMode=PassiveOnly",
            "--OfficialAccount:Deliveries=1",
            "--OfficialAccount:PassiveReplyBudget=00:00:00.200");

        var first = DecryptReply(await (await env.PostMessageAsync("慢问题", msgId: 20, crypto: Crypto)).Content.ReadAsStringAsync());
        Assert.Equal("正在思考中，回复任意文字获取回答。", first);

        gate.SetResult();
        await env.WaitForStoredRepliesAsync(1);
        var fetched = DecryptReply(await (await env.PostMessageAsync("1", msgId: 21, crypto: Crypto)).Content.ReadAsStringAsync());

        Assert.Equal("答：慢问题", fetched);
        Assert.Single(env.Model.Calls);
        Assert.Empty(env.WeChat.SentTexts);
    }

    [Fact]
    public async Task Typing_WhileTheModelThinks_SentOnceAndNeverRenewed()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var env = await Env.StartAsync(
            model => model.OnCall = (_, ct) => gate.Task.WaitAsync(ct),
            "--OfficialAccount:PassiveReplyBudget=00:00:00",
            "--OfficialAccount:TypingDelay=00:00:00.050");

        await env.PostMessageAsync("想久一点", msgId: 30, crypto: Crypto);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (TypingCalls(env) < 1)
        {
            await Task.Delay(20, timeout.Token);
        }

        gate.SetResult();
        await env.WaitForSentAsync(1);
        Assert.Equal(["答：想久一点"], env.WeChat.SentTexts);
        // WeChat refuses a renewal inside 15 s (45081) and any typing 30 s after the message (45080): one call.
        Assert.Equal(1, TypingCalls(env));
        var paths = env.WeChat.Calls.Select(c => c.Path).ToList();
        var typing = paths.FindIndex(p => p.EndsWith("custom/typing", StringComparison.Ordinal));
        var send = paths.FindIndex(p => p.EndsWith("custom/send", StringComparison.Ordinal));
        Assert.True(typing < send, "typing went out after the answer");
    }

    [Fact]
    public async Task Typing_AnswerReadyInTheCallback_NoTypingSent()
    {
        await using var env = await Env.StartAsync(null, "--OfficialAccount:TypingDelay=00:00:00.500");

        var response = await env.PostMessageAsync("快", msgId: 31, crypto: Crypto);

        Assert.Equal("答：快", DecryptReply(await response.Content.ReadAsStringAsync()));
        // The typing task gives up as soon as it sees the stored answer; past its delay, nothing was sent.
        await Task.Delay(TimeSpan.FromSeconds(1), TestContext.Current.CancellationToken);
        Assert.Equal(0, TypingCalls(env));
    }

    private static int TypingCalls(Env env) => env.WeChat.Calls.Count(c => c.Path.EndsWith("custom/typing", StringComparison.Ordinal));

    private static string DecryptReply(string body)
    {
        var envelope = WeChatXml.Parse(body);
        return WeChatXml.Parse(Crypto.VerifyAndDecrypt(envelope["MsgSignature"], envelope["TimeStamp"], envelope["Nonce"], envelope["Encrypt"]))["Content"];
    }

    [Theory]
    [InlineData("bad-signature", HttpStatusCode.Forbidden)]
    [InlineData("missing-signature", HttpStatusCode.Forbidden)]
    [InlineData("stale-timestamp", HttpStatusCode.Forbidden)]
    [InlineData("xxe", HttpStatusCode.BadRequest)]
    [InlineData("oversized", HttpStatusCode.RequestEntityTooLarge)]
    [InlineData("malformed-xml", HttpStatusCode.BadRequest)]
    [InlineData("malformed-base64", HttpStatusCode.BadRequest)]
    [InlineData("wrong-receiveid", HttpStatusCode.Forbidden)]
    [InlineData("unknown-account", HttpStatusCode.NotFound)]
    public async Task Callback_HostileInput_Gets4xxAndStoresNothing(string attack, HttpStatusCode expected)
    {
        // Compatible mode, so that hostile plaintext bodies reach the XML parser instead of the safe-mode refusal.
        await using var env = await Env.StartAsync(null, "--OfficialAccount:Accounts:demo:Mode=Compatible");
        var now = TimeProvider.System.GetUtcNow();
        var xml = FakeWeChatServer.TextMessage("gh_demo", "o-user", "hi", 77, now);
        var (url, body) = FakeWeChatServer.Callback(Path, Token, Crypto, xml, now, "123", "o-user");
        switch (attack)
        {
            case "bad-signature":
                url = url.Replace("msg_signature=", "msg_signature=0", StringComparison.Ordinal);
                break;
            case "missing-signature":
                (url, body) = FakeWeChatServer.Callback(Path, Token, null, xml, now, "123", "o-user");
                url = url[..url.IndexOf("signature", StringComparison.Ordinal)] + "timestamp=" + now.ToUnixTimeSeconds();
                break;
            case "stale-timestamp":
                (url, body) = FakeWeChatServer.Callback(Path, Token, Crypto, xml, now.AddMinutes(-6), "123", "o-user");
                break;
            case "xxe":
                (url, body) = FakeWeChatServer.Callback(Path, Token, null, "<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>" + xml.Replace("hi", "&e;", StringComparison.Ordinal), now, "123", "o-user");
                break;
            case "oversized":
                body = body.Replace("</xml>", new string(' ', 70_000) + "</xml>", StringComparison.Ordinal);
                break;
            case "malformed-xml":
                (url, body) = FakeWeChatServer.Callback(Path, Token, null, "<xml><ToUserName>", now, "123", "o-user");
                break;
            case "malformed-base64":
                var ts = now.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture);
                url = $"{Path}?timestamp={ts}&nonce=1&encrypt_type=aes&msg_signature={WeChatSignature.Compute(Token, ts, "1", "!!notbase64!!")}";
                body = "<xml><Encrypt><![CDATA[!!notbase64!!]]></Encrypt></xml>";
                break;
            case "wrong-receiveid":
                (url, body) = FakeWeChatServer.Callback(Path, Token, new WeChatMessageCrypto(Token, AesKey, "wx_other_appid"), xml, now, "123", "o-user");
                break;
            case "unknown-account":
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
        var random = new Random(20261128);
        var now = TimeProvider.System.GetUtcNow().ToUnixTimeSeconds();
        var pieces = new[] { "<xml>", "</xml>", "<Encrypt>", "<![CDATA[", "]]>", "<!DOCTYPE", "&", "MsgType", "text", "==", "\0", "中文", "<", ">" };
        for (var i = 0; i < 200; i++)
        {
            var body = new StringBuilder();
            for (var j = random.Next(0, 30); j > 0; j--)
            {
                body.Append(random.Next(3) == 0 ? Convert.ToBase64String(BitConverter.GetBytes(random.NextInt64())) : pieces[random.Next(pieces.Length)]);
            }

            var signature = Convert.ToHexStringLower(BitConverter.GetBytes(random.NextInt64())).PadRight(40, 'a');
            var encrypted = random.Next(2) == 0 ? "&encrypt_type=aes&msg_signature=" + signature : "";
            var response = await env.Http.PostAsync($"{Path}?signature={signature}&timestamp={now}&nonce={random.Next()}{encrypted}", new StringContent(body.ToString(), Encoding.UTF8, "text/xml"));
            Assert.InRange((int)response.StatusCode, 400, 499);
        }

        Assert.Empty(await env.StoredChatsAsync());
    }

    [Fact]
    public async Task UrlVerification_SignedGet_EchoesEchostr()
    {
        await using var env = await Env.StartAsync();
        var ts = TimeProvider.System.GetUtcNow().ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture);
        var good = await env.Http.GetStringAsync($"{Path}?signature={WeChatSignature.Compute(Token, ts, "9")}&timestamp={ts}&nonce=9&echostr=hello123");
        var bad = await env.Http.GetAsync($"{Path}?signature={WeChatSignature.Compute(Token, ts, "8")}&timestamp={ts}&nonce=9&echostr=hello123");

        Assert.Equal("hello123", good);
        Assert.Equal(HttpStatusCode.Forbidden, bad.StatusCode);
    }

    [Fact]
    public async Task UrlVerification_SignedGetWithoutEchostr_Returns400LikeWeCom()
    {
        // One status rule for both callbacks: a GET without echostr is malformed (400), as on /wechat/wecom/;
        // it used to get an empty 200 here.
        await using var env = await Env.StartAsync();
        var ts = TimeProvider.System.GetUtcNow().ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture);

        var response = await env.Http.GetAsync($"{Path}?signature={WeChatSignature.Compute(Token, ts, "9")}&timestamp={ts}&nonce=9");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("", await response.Content.ReadAsStringAsync());
    }

    /// <summary>The host with the 公众号 <c>demo</c> in safe mode, against a fake WeChat server of its own.</summary>
    private sealed class Env(WeSeekTestHost host, FakeWeChatServer weChat, ScriptedChatClient model) : IAsyncDisposable
    {
        public FakeWeChatServer WeChat => weChat;

        public ScriptedChatClient Model => model;

        public HttpClient Http => host.Http;

        public static Task<Env> StartAsync(Action<ScriptedChatClient>? setup = null, params string[] extra) => StartAsync(setup, null, extra);

        public static async Task<Env> StartAsync(Action<ScriptedChatClient>? setup, Action<IServiceCollection>? configure, params string[] extra)
        {
            var weChat = await FakeWeChatServer.StartAsync();
            var model = ScriptedChatClient.Echo();
            setup?.Invoke(model);
            var host = await WeSeekTestHost.StartAsync(
            [
                "--OfficialAccount:Accounts:demo:Token=" + Token,
                "--OfficialAccount:Accounts:demo:EncodingAesKey=" + AesKey,
                "--OfficialAccount:Accounts:demo:AppId=" + AppId,
                "--OfficialAccount:Accounts:demo:AppSecret=secret",
                "--OfficialAccount:ApiBaseUrl=" + weChat.BaseUrl,
                // The longest budget allowed: "answer ready" must not depend on how busy the machine is.
                "--OfficialAccount:PassiveReplyBudget=00:00:04.800",
                .. extra,
            ], model, configure);
            return new Env(host, weChat, model);
        }

        public Task<HttpResponseMessage> PostMessageAsync(string text, long msgId, WeChatMessageCrypto? crypto)
        {
            var now = TimeProvider.System.GetUtcNow();
            var (url, body) = FakeWeChatServer.Callback(Path, Token, crypto, FakeWeChatServer.TextMessage("gh_demo", "o-user", text, msgId, now), now, FakeWeChatServer.NextNonce(), "o-user");
            return Http.PostAsync(url, new StringContent(body, Encoding.UTF8, "text/xml"));
        }

        public Task WaitForSentAsync(int count) => WeSeekTestHost.WaitUntilAsync(() => WeChat.SentTexts.Count >= count);

        public async Task WaitForStoredRepliesAsync(int count)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            var transcripts = host.GetRequiredService<ITranscriptReader>();
            while ((await transcripts.ReadAsync(ChannelId.From("mp:demo"), "o-user", 100, timeout.Token)).Count(e => !e.FromUser) < count)
            {
                await Task.Delay(20, timeout.Token);
            }
        }

        public async Task<IReadOnlyList<ChatSummary>> StoredChatsAsync() =>
            await host.GetRequiredService<ITranscriptReader>().ListChatsAsync(ChannelId.From("mp:demo"), 100, CancellationToken.None);

        public async ValueTask DisposeAsync()
        {
            await host.DisposeAsync();
            await weChat.DisposeAsync();
        }
    }
}
