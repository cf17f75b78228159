using System.Net;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;
using WeSeek.Channels.OneBot;
using WeSeek.Host.Tests.WebChat;
using WeSeek.Messaging;
using WeSeek.TestKit;

namespace WeSeek.Host.Tests.OneBot;

/// <summary>The OneBot 12 channel through the whole product (SQLite, inbox, pipeline, outbox, Kestrel) against a
/// fake OneBot implementation written from the spec, over loopback WebSockets.</summary>
public sealed class OneBotEndToEndTests
{
    private const string Token = "onebot-test-token-0123456789";

    [Fact]
    public async Task Handshake_WrongOrMissingTokenIs401_RightTokenIsAcceptedWithTheSubprotocolEchoed()
    {
        await using var env = await Env.StartAsync();

        Assert.Equal(HttpStatusCode.Unauthorized, await FakeOneBotImplementation.TryConnectAsync(env.BaseAddress, "wrong-token-0123456789"));
        Assert.Equal(HttpStatusCode.Unauthorized, await FakeOneBotImplementation.TryConnectAsync(env.BaseAddress, Token[..^1]));
        Assert.Equal(HttpStatusCode.Unauthorized, await FakeOneBotImplementation.TryConnectAsync(env.BaseAddress, null));
        Assert.Equal(HttpStatusCode.SwitchingProtocols, await FakeOneBotImplementation.TryConnectAsync(env.BaseAddress, Token));
        await using var viaQuery = await FakeOneBotImplementation.ConnectAsync(env.BaseAddress, Token, tokenInQuery: true);
        Assert.Equal("12.fake", viaQuery.SubProtocol);
        await WeSeekTestHost.WaitUntilAsync(() => env.Channel.IsConnected);
    }

    [Fact]
    public async Task PrivateMessage_IsAnsweredWithSendMessageCarryingAnEcho()
    {
        await using var env = await Env.StartAsync();
        await using var impl = await env.ConnectAsync();

        await impl.SendPrivateMessageAsync("wxid_alice", "m-1", "你好");

        await WeSeekTestHost.WaitUntilAsync(() => impl.Actions.Count == 1);
        var action = impl.Actions[0];
        Assert.Equal("send_message", action["action"]!.GetValue<string>());
        Assert.False(string.IsNullOrEmpty(action["echo"]!.GetValue<string>()));
        var p = action["params"]!.AsObject();
        Assert.Equal("private", p["detail_type"]!.GetValue<string>());
        Assert.Equal("wxid_alice", p["user_id"]!.GetValue<string>());
        var segment = Assert.Single(p["message"]!.AsArray())!;
        Assert.Equal("text", segment["type"]!.GetValue<string>());
        Assert.Equal("答：你好", segment["data"]!["text"]!.GetValue<string>());
        Assert.Empty(impl.ProtocolErrors);
    }

    [Fact]
    public async Task GroupMessageMentioningTheBot_IsAnsweredQuotingAndMentioningTheAsker()
    {
        await using var env = await Env.StartAsync();
        await using var impl = await env.ConnectAsync();

        await impl.SendGroupMessageAsync("123@chatroom", "wxid_bob", "g-1",
            FakeOneBotImplementation.Mention(FakeOneBotImplementation.SelfId), FakeOneBotImplementation.Text(" 天气如何"));

        await WeSeekTestHost.WaitUntilAsync(() => impl.Actions.Count == 1);
        var p = impl.Actions[0]["params"]!.AsObject();
        Assert.Equal("group", p["detail_type"]!.GetValue<string>());
        Assert.Equal("123@chatroom", p["group_id"]!.GetValue<string>());
        var segments = p["message"]!.AsArray();
        Assert.Equal(["reply", "mention", "text"], segments.Select(s => s!["type"]!.GetValue<string>()));
        Assert.Equal("g-1", segments[0]!["data"]!["message_id"]!.GetValue<string>());
        Assert.Equal("wxid_bob", segments[1]!["data"]!["user_id"]!.GetValue<string>());
        Assert.Equal("答：天气如何", segments[2]!["data"]!["text"]!.GetValue<string>().Trim());
        Assert.Equal("天气如何", ScriptedChatClient.UserText(Assert.Single(env.Model.Calls).Last(m => m.Role == ChatRole.User).Text));
    }

    [Fact]
    public async Task GroupMessageWithThePrefix_IsAnsweredWithoutThePrefix()
    {
        await using var env = await Env.StartAsync();
        await using var impl = await env.ConnectAsync();

        await impl.SendGroupMessageAsync("456@chatroom", "wxid_carol", "g-2", FakeOneBotImplementation.Text("/ai 你是谁"));

        await WeSeekTestHost.WaitUntilAsync(() => impl.Actions.Count == 1);
        var segments = impl.Actions[0]["params"]!["message"]!.AsArray();
        Assert.Equal("g-2", segments[0]!["data"]!["message_id"]!.GetValue<string>());
        Assert.Equal("答：你是谁", segments[2]!["data"]!["text"]!.GetValue<string>().Trim());
    }

    [Fact]
    public async Task GroupMessageWithoutTrigger_IsNotAnsweredAndCostsNoModelCall()
    {
        await using var env = await Env.StartAsync();
        await using var impl = await env.ConnectAsync();

        await impl.SendGroupMessageAsync("789@chatroom", "wxid_dan", "g-3", FakeOneBotImplementation.Text("大家好，今天开会"));
        await impl.SendGroupMessageAsync("789@chatroom", "wxid_dan", "g-4", FakeOneBotImplementation.Text("@someone 你好"), FakeOneBotImplementation.Mention("wxid_other"));
        // A triggered message after them, in the same group: once it is answered, the two before were handled.
        await impl.SendGroupMessageAsync("789@chatroom", "wxid_erin", "g-5", FakeOneBotImplementation.Text("/ai 一加一"));

        await WeSeekTestHost.WaitUntilAsync(() => impl.Actions.Count == 1);
        var segments = impl.Actions[0]["params"]!["message"]!.AsArray();
        Assert.Equal("g-5", segments[0]!["data"]!["message_id"]!.GetValue<string>());
        var call = Assert.Single(env.Model.Calls);
        Assert.Equal("一加一", ScriptedChatClient.UserText(call.Last(m => m.Role == ChatRole.User).Text));
        // The messages before it are the group's recent window, attributed by user id.
        Assert.Contains("[wxid_dan] 大家好，今天开会\n[wxid_dan] @someone 你好@wxid_other", call.Last(m => m.Role == ChatRole.User).Text, StringComparison.Ordinal);
        Assert.Single(impl.Actions);
    }

    [Fact]
    public async Task AllowList_GroupOffTheListIsDroppedAndCounted_GroupOnItIsAnswered()
    {
        await using var env = await Env.StartAsync("--OneBot:AllowedGroups:0=ok@chatroom", "--OneBot:GroupKeywords:0=翻译");
        await using var impl = await env.ConnectAsync();

        await impl.SendGroupMessageAsync("other@chatroom", "wxid_kim", "al-1", FakeOneBotImplementation.Mention(FakeOneBotImplementation.SelfId), FakeOneBotImplementation.Text("你好"));
        await impl.SendGroupMessageAsync("other@chatroom", "wxid_kim", "al-2", FakeOneBotImplementation.Text("/ai 在吗"));
        await impl.SendGroupMessageAsync("ok@chatroom", "wxid_lee", "al-3", FakeOneBotImplementation.Text("翻译 apple"));

        await WeSeekTestHost.WaitUntilAsync(() => impl.Actions.Count == 1);
        Assert.Equal("ok@chatroom", impl.Actions[0]["params"]!["group_id"]!.GetValue<string>());
        Assert.Equal("答：翻译 apple", impl.Actions[0]["params"]!["message"]![2]!["data"]!["text"]!.GetValue<string>().Trim());
        Assert.Equal(2, env.Channel.IgnoredGroupMessages);
        var call = Assert.Single(env.Model.Calls);
        Assert.DoesNotContain(call, m => m.Text.Contains("在吗", StringComparison.Ordinal));
        // Private chats are not groups: the allow-list does not apply to them.
        await impl.SendPrivateMessageAsync("wxid_kim", "al-4", "私聊");
        await WeSeekTestHost.WaitUntilAsync(() => impl.Actions.Count == 2);
    }

    [Fact]
    public async Task GroupBurst_MentionThenTheQuestion_IsOneAnswerQuotingTheFirstMessage()
    {
        // A window wide enough that the two sends below always fall inside it, however loaded the machine.
        await using var env = await Env.StartAsync("--Dispatcher:GroupBurstWindow=00:00:03");
        await using var impl = await env.ConnectAsync();

        await impl.SendGroupMessageAsync("burst@chatroom", "wxid_max", "b-1", FakeOneBotImplementation.Mention(FakeOneBotImplementation.SelfId));
        await impl.SendGroupMessageAsync("burst@chatroom", "wxid_max", "b-2", FakeOneBotImplementation.Text("这段代码为什么报错"));

        await WeSeekTestHost.WaitUntilAsync(() => impl.Actions.Count == 1);
        var segments = impl.Actions[0]["params"]!["message"]!.AsArray();
        Assert.Equal("b-1", segments[0]!["data"]!["message_id"]!.GetValue<string>());
        Assert.Equal("wxid_max", segments[1]!["data"]!["user_id"]!.GetValue<string>());
        Assert.Equal("答：你好\n这段代码为什么报错", segments[2]!["data"]!["text"]!.GetValue<string>().Trim());
        Assert.Single(env.Model.Calls);
    }

    [Fact]
    public async Task DuplicateMessageId_IsAnsweredOnce()
    {
        await using var env = await Env.StartAsync();
        await using var impl = await env.ConnectAsync();

        await impl.SendPrivateMessageAsync("wxid_fay", "m-dup", "一次");
        await impl.SendPrivateMessageAsync("wxid_fay", "m-dup", "一次");
        await impl.SendPrivateMessageAsync("wxid_fay", "m-next", "两次");

        await WeSeekTestHost.WaitUntilAsync(() => impl.Actions.Count == 2);
        Assert.Equal(2, env.Model.Calls.Count);
        Assert.Equal(["答：一次", "答：两次"], impl.Actions.Select(a => a["params"]!["message"]![0]!["data"]!["text"]!.GetValue<string>()).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task ActionFailure_IsRetriedByTheOutbox()
    {
        await using var env = await Env.StartAsync();
        await using var impl = await env.ConnectAsync();
        impl.FailNextActions(1);

        await impl.SendPrivateMessageAsync("wxid_gil", "m-retry", "再试");

        await WeSeekTestHost.WaitUntilAsync(() => impl.Actions.Count == 2);
        Assert.All(impl.Actions, a => Assert.Equal("答：再试", a["params"]!["message"]![0]!["data"]!["text"]!.GetValue<string>()));
        Assert.NotEqual(impl.Actions[0]["echo"]!.GetValue<string>(), impl.Actions[1]["echo"]!.GetValue<string>());
        Assert.Single(env.Model.Calls);
    }

    [Fact]
    public async Task ActionWithoutResponse_TimesOutAndIsRetried()
    {
        await using var env = await Env.StartAsync("--OneBot:ActionTimeout=00:00:00.300");
        await using var impl = await env.ConnectAsync();
        impl.IgnoreNextActions(1);

        await impl.SendPrivateMessageAsync("wxid_hal", "m-silent", "没回应");

        await WeSeekTestHost.WaitUntilAsync(() => impl.Actions.Count >= 2);
        Assert.All(impl.Actions, a => Assert.Equal("答：没回应", a["params"]!["message"]![0]!["data"]!["text"]!.GetValue<string>()));
        Assert.Single(env.Model.Calls);
    }

    [Fact]
    public async Task NoConnection_SendFailsTransiently()
    {
        await using var env = await Env.StartAsync();

        var failure = await Assert.ThrowsAsync<ChannelSendException>(() =>
            env.Channel.SendAsync(new OutboundMessage(1, env.Channel.Id, FakeOneBotImplementation.SelfId, "wxid_h", "hi", 1, 0), CancellationToken.None));

        Assert.False(failure.IsPermanent);
    }

    [Fact]
    public async Task HeartbeatStops_TheConnectionIsClosedWithACloseFrame()
    {
        await using var env = await Env.StartAsync("--OneBot:HeartbeatMisses=2");
        await using var impl = await env.ConnectAsync();
        await WeSeekTestHost.WaitUntilAsync(() => env.Channel.IsConnected);

        await impl.SendHeartbeatAsync(intervalMs: 100);

        await WeSeekTestHost.WaitUntilAsync(() => !env.Channel.IsConnected);
        await WeSeekTestHost.WaitUntilAsync(() => !impl.IsConnected);
        Assert.Equal(System.Net.WebSockets.WebSocketCloseStatus.PolicyViolation, impl.ReceivedCloseStatus);
    }

    [Theory]
    [InlineData("bearer")]
    [InlineData("BEARER")]
    [InlineData("Bearer")]
    public async Task Handshake_AuthorizationSchemeInAnyCase_IsAccepted(string scheme)
    {
        await using var env = await Env.StartAsync();

        Assert.Equal(System.Net.HttpStatusCode.SwitchingProtocols, await FakeOneBotImplementation.TryConnectAsync(env.BaseAddress, Token, scheme));
    }

    [Fact]
    public async Task ForwardMode_ConnectsWithTheTokenAnswersAndReconnectsAfterADrop()
    {
        await using var impl = await FakeOneBotImplementation.ListenAsync(Token);
        await using var env = await Env.StartAsync("--OneBot:Mode=Forward", "--OneBot:ForwardUrl=" + impl.Url, "--OneBot:ReconnectDelay=00:00:00.050", "--OneBot:MaxReconnectDelay=00:00:00.200");
        await WeSeekTestHost.WaitUntilAsync(() => impl.Connections == 1 && env.Channel.IsConnected);

        await impl.SendPrivateMessageAsync("wxid_ivy", "f-1", "正向");
        await WeSeekTestHost.WaitUntilAsync(() => impl.Actions.Count == 1);
        Assert.Equal("答：正向", impl.Actions[0]["params"]!["message"]![0]!["data"]!["text"]!.GetValue<string>());

        await impl.DisconnectAsync();
        await WeSeekTestHost.WaitUntilAsync(() => impl.Connections == 2 && env.Channel.IsConnected);
        await impl.SendPrivateMessageAsync("wxid_ivy", "f-2", "又连上了");
        await WeSeekTestHost.WaitUntilAsync(() => impl.Actions.Count == 2);
    }

    [Fact]
    public async Task EventsWithoutSelf_TheBotAsksGetSelfInfoAfterMetaConnect_AndRecognisesItsMention()
    {
        await using var env = await Env.StartAsync();
        var impl = await FakeOneBotImplementation.ConnectAsync(env.BaseAddress, Token);
        await using var _ = impl;
        impl.OmitSelf = true;

        await WeSeekTestHost.WaitUntilAsync(() => impl.Requests.Any(r => r["action"]!.GetValue<string>() == "get_self_info"));
        var request = impl.Requests.First(r => r["action"]!.GetValue<string>() == "get_self_info");
        Assert.StartsWith("weseek-", request["echo"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Empty(request["params"]!.AsObject());
        // Its id comes only from the answer: a mention of it in an event without self, sent after it, triggers.
        await WeSeekTestHost.WaitUntilAsync(() => impl.AnswersSent == 1);
        await impl.SendGroupMessageAsync("self@chatroom", "wxid_nia", "s-1", FakeOneBotImplementation.Mention(FakeOneBotImplementation.SelfId), FakeOneBotImplementation.Text(" 你好吗"));

        await WeSeekTestHost.WaitUntilAsync(() => impl.Actions.Count == 1);
        Assert.Equal("答：你好吗", impl.Actions[0]["params"]!["message"]![2]!["data"]!["text"]!.GetValue<string>().Trim());
    }

    [Fact]
    public async Task ConfiguredSelfId_IsNotAskedFor()
    {
        await using var env = await Env.StartAsync("--OneBot:SelfId=" + FakeOneBotImplementation.SelfId);
        await using var impl = await env.ConnectAsync();

        await impl.SendPrivateMessageAsync("wxid_oz", "c-1", "你好");

        await WeSeekTestHost.WaitUntilAsync(() => impl.Actions.Count == 1);
        Assert.DoesNotContain(impl.Requests, r => r["action"]!.GetValue<string>() == "get_self_info");
    }

    [Fact]
    public async Task Actions_AreMatchedByEchoNotOrder_WhenAnswersComeBackReversed()
    {
        await using var env = await Env.StartAsync();
        await using var impl = await env.ConnectAsync();
        await WeSeekTestHost.WaitUntilAsync(() => impl.AnswersSent == 1);
        impl.HoldNextAnswers(2);

        var status = env.Channel.GetStatusAsync(CancellationToken.None);
        await WeSeekTestHost.WaitUntilAsync(() => impl.HeldCount == 1);
        var send = env.Channel.SendAsync(new OutboundMessage(1, env.Channel.Id, FakeOneBotImplementation.SelfId, "wxid_pat", "hi", 1, 0), CancellationToken.None);
        await WeSeekTestHost.WaitUntilAsync(() => impl.HeldCount == 2);
        await impl.ReleaseHeldInReverseAsync();

        var answered = await status;
        Assert.True(answered is { Connected: true, Responded: true, Good: true, Online: true, Impl: "fake" }, answered.ToString());
        Assert.StartsWith("sent-", (await send).PlatformMessageId, StringComparison.Ordinal);
        Assert.Equal(["get_self_info", "get_status", "send_message"], impl.Requests.Select(r => r["action"]!.GetValue<string>()));
    }

    [Fact]
    public async Task GetStatus_WithoutAnswer_TimesOutAsNotResponding_AndHealthSaysSo()
    {
        await using var env = await Env.StartAsync("--OneBot:ActionTimeout=00:00:00.300");
        using var http = TestHttp.CreateClient(env.BaseAddress);
        var cancel = TestContext.Current.CancellationToken;
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await http.GetAsync("/health/channels", cancel)).StatusCode);

        await using var impl = await env.ConnectAsync();
        await WeSeekTestHost.WaitUntilAsync(() => impl.AnswersSent == 1);
        Assert.Equal("Healthy", await http.GetStringAsync("/health/channels", cancel));

        // The WeChat login expired: degraded (still 200, as ASP.NET Core maps Degraded), not unhealthy.
        impl.Online = false;
        Assert.Equal("Degraded", await http.GetStringAsync("/health/channels", cancel));

        impl.IgnoreNextActions(1, anyAction: true);
        var status = await env.Channel.GetStatusAsync(CancellationToken.None);
        Assert.True(status.Connected);
        Assert.False(status.Responded);
        Assert.True(env.Channel.IsConnected);
    }

    [Fact]
    public async Task StatusUpdateEvent_IsKept()
    {
        await using var env = await Env.StartAsync();
        await using var impl = await env.ConnectAsync();

        await impl.SendStatusUpdateAsync(good: true, online: false);

        await WeSeekTestHost.WaitUntilAsync(() => env.Channel.LastStatus is not null);
        Assert.True(env.Channel.LastStatus!.Good);
        Assert.False(env.Channel.LastStatus.Online);
    }

    [Fact]
    public async Task ReverseMode_ImplementationReconnects_AndTheNewConnectionIsAnswered()
    {
        await using var env = await Env.StartAsync();
        var first = await env.ConnectAsync();
        await first.SendPrivateMessageAsync("wxid_quin", "r-1", "第一次");
        await WeSeekTestHost.WaitUntilAsync(() => first.Actions.Count == 1);
        await first.DisposeAsync();
        await WeSeekTestHost.WaitUntilAsync(() => !env.Channel.IsConnected);

        await using var second = await env.ConnectAsync();
        await second.SendPrivateMessageAsync("wxid_quin", "r-2", "重连后");

        await WeSeekTestHost.WaitUntilAsync(() => second.Actions.Count == 1);
        Assert.Equal("答：重连后", second.Actions[0]["params"]!["message"]![0]!["data"]!["text"]!.GetValue<string>());
        Assert.Equal(2, env.Channel.Connections);
    }

    [Fact]
    public async Task MissingAccessToken_StopsStartUpNamingTheKey()
    {
        using var data = new TempDirectory();

        var failure = await Assert.ThrowsAsync<OptionsValidationException>(() => WebChatEndToEndTests.StartAsync(data, null, "--OneBot:Enabled=true"));

        Assert.Contains(failure.Failures, f => f.Contains("WESEEK__OneBot__AccessToken", StringComparison.Ordinal));
    }

    /// <summary>The host with the OneBot channel on, in reverse mode unless a test says otherwise.</summary>
    private sealed class Env(WeSeekTestHost host, ScriptedChatClient model) : IAsyncDisposable
    {
        public ScriptedChatClient Model => model;

        public Uri BaseAddress => host.BaseAddress;

        public OneBotChannel Channel => host.GetRequiredService<OneBotChannel>();

        public static async Task<Env> StartAsync(params string[] extra)
        {
            var model = ScriptedChatClient.Echo();
            var host = await WeSeekTestHost.StartAsync(
            [
                "--OneBot:Enabled=true",
                "--OneBot:AccessToken=" + Token,
                "--Outbox:RetryDelay=00:00:00.100",
                .. extra,
            ], model);
            return new Env(host, model);
        }

        public async Task<FakeOneBotImplementation> ConnectAsync()
        {
            var impl = await FakeOneBotImplementation.ConnectAsync(BaseAddress, Token);
            await WeSeekTestHost.WaitUntilAsync(() => Channel.IsConnected);
            return impl;
        }

        public ValueTask DisposeAsync() => host.DisposeAsync();
    }
}
