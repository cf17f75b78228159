using System.Diagnostics.Metrics;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using WeSeek.Channels.ILink;
using WeSeek.Host.Tests.WebChat;
using WeSeek.Conversations;
using WeSeek.Messaging;
using WeSeek.Operations;
using WeSeek.TestKit;

namespace WeSeek.Host.Tests.ILink;

/// <summary>The iLink channel through the whole product (SQLite, inbox, pipeline, outbox, Kestrel) against the
/// fake iLink server written from the published protocol.</summary>
public sealed class ILinkEndToEndTests
{
    [Fact]
    public async Task Login_ScanConfirmed_StoresTheTokenAndTheChannelStartsPolling()
    {
        await using var env = await Env.StartAsync();
        env.ILink.ScriptQr("wait", "scaned", "confirmed");
        var shown = new List<string>();
        var progress = new List<ILinkLoginProgress>();

        var result = await env.Login.RunAsync((content, _) => { shown.Add(content); return Task.CompletedTask; }, progress.Add, CancellationToken.None);

        Assert.Equal(ILinkLoginOutcome.LoggedIn, result.Outcome);
        Assert.Equal(env.ILink.BotId, result.BotId);
        Assert.Single(shown);
        Assert.Equal([ILinkLoginProgress.QrCodeShown, ILinkLoginProgress.Scanned], progress);
        await WeSeekTestHost.WaitUntilAsync(() => env.ILink.Cursors.Count > 0);
        await WeSeekTestHost.WaitUntilAsync(() => env.Channel.State == ILinkPollerState.Polling);
        Assert.Empty(env.ILink.ProtocolErrors);
    }

    [Fact]
    public async Task Login_QrExpiresEachTime_RefreshesThenGivesUpWithoutAToken()
    {
        await using var env = await Env.StartAsync(extra: "--ILink:QrRefreshes=2");
        env.ILink.ScriptQr("wait", "expired", "scaned", "expired", "expired", "confirmed");
        var shown = 0;

        var result = await env.Login.RunAsync((_, _) => { shown++; return Task.CompletedTask; }, null, CancellationToken.None);

        Assert.Equal(ILinkLoginOutcome.Expired, result.Outcome);
        Assert.Equal(3, shown);
        Assert.Equal(3, env.ILink.QrCodes);
        Assert.Null(env.ILink.LastToken);
        Assert.Equal(ILinkPollerState.NotLoggedIn, env.Channel.State);
    }

    [Fact]
    public async Task WebLogin_ShowsTheQrCodeAsPngAndReachesLoggedIn()
    {
        await using var env = await Env.StartAsync(extra: "--ILink:QrPollInterval=00:00:00.050");
        using var http = TestHttp.CreateClient(WebChatEndToEndTests.BaseAddress(env.App));
        // Starting a login binds an account to the bot: an admin action, refused without a key.
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, (await http.PostAsync("/api/ilink/login", null)).StatusCode);
        var (key, _) = await env.App.Services.GetRequiredService<WeSeek.Security.AdminKeys>().CreateAsync("console", CancellationToken.None);
        http.DefaultRequestHeaders.Authorization = new("Bearer", key);
        Assert.Equal(System.Net.HttpStatusCode.NotFound, (await http.GetAsync("/api/ilink/login/qr.png")).StatusCode);

        Assert.Equal(System.Net.HttpStatusCode.Accepted, (await http.PostAsync("/api/ilink/login", null)).StatusCode);
        var login = env.App.Services.GetRequiredService<ILinkWebLogin>();
        await WeSeekTestHost.WaitUntilAsync(() => login.QrPng() is not null);
        using var png = await http.GetAsync("/api/ilink/login/qr.png");
        var bytes = await png.Content.ReadAsByteArrayAsync();
        env.ILink.ScriptQr("scaned", "confirmed");

        Assert.Equal("image/png", png.Content.Headers.ContentType?.MediaType);
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], bytes[..4]);
        await WeSeekTestHost.WaitUntilAsync(() => login.Status == ILinkWebLoginStatus.LoggedIn);
        await WeSeekTestHost.WaitUntilAsync(() => env.Channel.State == ILinkPollerState.Polling);
        Assert.Contains("LoggedIn", await http.GetStringAsync("/api/ilink/login"), StringComparison.Ordinal);
        Assert.Equal(System.Net.HttpStatusCode.NotFound, (await http.GetAsync("/api/ilink/login/qr.png")).StatusCode);
    }

    [Fact]
    public async Task MessageIn_ReplyOut_EchoesTheContextTokenWithAClientIdPerChunk()
    {
        await using var env = await Env.StartLoggedInAsync();
        env.ILink.Deliver("user-a@im.wechat", "你好", contextToken: "ctx-first");

        await WeSeekTestHost.WaitUntilAsync(() => env.ILink.Sent.Count == 1);
        var sent = env.ILink.Sent[0];
        Assert.Equal("user-a@im.wechat", sent.ToUserId);
        Assert.Equal("ctx-first", sent.ContextToken);
        Assert.Equal("答：你好", sent.Text);
        Assert.Matches(@"^weseek-[0-9a-f]{12}-\d+-0$", sent.ClientId);
        Assert.Empty(env.ILink.ProtocolErrors);
    }

    [Fact]
    public async Task LongAnswer_SplitAt2000CharactersAndTheRestWaitsForContinue()
    {
        var answer = string.Concat(Enumerable.Range(0, 300).Select(i => $"第{i}句话，内容比较长一些。"));
        await using var env = await Env.StartLoggedInAsync(model => new ScriptedChatClient(_ => [answer]), "--ILink:MaxSendsPerContextToken=2");
        env.ILink.Deliver("user-b@im.wechat", "讲个长故事");

        await WeSeekTestHost.WaitUntilAsync(() => env.ILink.Sent.Count == 2);
        Assert.True(answer.Length > 4000);
        Assert.All(env.ILink.Sent, s => Assert.InRange(s.Text.Length, 1000, 2000));
        Assert.EndsWith("回复「继续」查看剩余 (2/2)", env.ILink.Sent[1].Text, StringComparison.Ordinal);
        Assert.Equal(["0", "1"], env.ILink.Sent.Select(s => s.ClientId[^1..]));
    }

    [Fact]
    public async Task SendsBeyondTheTokenBudget_FailClearlyAndAreNotSent()
    {
        await using var env = await Env.StartLoggedInAsync(null, "--ILink:MaxSendsPerContextToken=1");
        env.ILink.Deliver("user-c@im.wechat", "一");
        await WeSeekTestHost.WaitUntilAsync(() => env.ILink.Sent.Count == 1);
        // The fake records the send when it arrives; the channel counts it against the token once the answer
        // is back and the outbox has marked it sent.
        var transcripts = env.App.Services.GetRequiredService<ITranscriptReader>();
        await WeSeekTestHost.WaitUntilAsync(() => transcripts.ReadAsync(env.Channel.Id, "user-c@im.wechat", 10, CancellationToken.None).GetAwaiter().GetResult().Any(e => !e.FromUser && e.Delivered));
        var channel = env.Channel;

        var refused = await Assert.ThrowsAsync<ChannelSendException>(() => channel.SendAsync(new OutboundMessage(999, channel.Id, "default", "user-c@im.wechat", "多的一条", 1, 1), CancellationToken.None));

        Assert.True(refused.IsPermanent);
        Assert.Contains("budget", refused.Message, StringComparison.Ordinal);
        Assert.Single(env.ILink.Sent);
    }

    [Fact]
    public async Task Restart_MidStream_NeitherLosesNorRepeatsAndResumesAtTheCursor()
    {
        var data = new TempDirectory();
        await using var ilink = await FakeILinkServer.StartAsync();
        await using (var first = await Env.StartLoggedInAsync(data, ilink))
        {
            ilink.Deliver("user-d@im.wechat", "一");
            ilink.Deliver("user-e@im.wechat", "二");
            await WeSeekTestHost.WaitUntilAsync(() => ilink.Sent.Count == 2);
            Assert.Equal(2, first.Model.Calls.Count);
        }

        var before = ilink.Cursors.Count;
        ilink.Deliver("user-d@im.wechat", "三");
        await using (var second = await Env.StartAsync(data, ilink))
        {
            await WeSeekTestHost.WaitUntilAsync(() => ilink.Sent.Count == 3);
            Assert.Equal("c:2", ilink.Cursors[before]);
            Assert.Single(second.Model.Calls);
        }

        string[] expected = ["答：一", "答：二", "答：三"];
        Assert.Equal(expected.Order(StringComparer.Ordinal), ilink.Sent.Select(s => s.Text).Order(StringComparer.Ordinal));
        Assert.Equal(3, ilink.SendAttempts.Count);
        data.Dispose();
    }

    [Fact]
    public async Task SendWhoseResponseIsLost_IsRetriedWithTheSameClientIdAndShownOnce()
    {
        await using var env = await Env.StartLoggedInAsync();
        env.ILink.DropNextSendResponses(1);
        env.ILink.Deliver("user-f@im.wechat", "重试");

        await WeSeekTestHost.WaitUntilAsync(() => env.ILink.SendAttempts.Values.Sum() == 2);
        var attempts = Assert.Single(env.ILink.SendAttempts);
        Assert.Equal(2, attempts.Value);
        Assert.Equal(attempts.Key, Assert.Single(env.ILink.Sent).ClientId);
    }

    [Fact]
    public async Task SessionExpired_StopsPollingWithAScanAgainNoticeAndANewLoginResumes()
    {
        await using var env = await Env.StartLoggedInAsync();
        env.ILink.ExpireSessions();

        // The state changes before the notice is posted: wait for both, then check the notice.
        await WeSeekTestHost.WaitUntilAsync(() => env.Channel.State == ILinkPollerState.SessionExpired
            && env.Notices.Current.Any(n => n.Contains("Scan again", StringComparison.Ordinal)));
        Assert.Contains(env.Notices.Current, n => n.Contains("Scan again", StringComparison.Ordinal) && n.Contains("-14", StringComparison.Ordinal));
        Assert.Null(await env.Store.GetAsync(env.Channel.Id, "bot_token", CancellationToken.None));

        env.ILink.ScriptQr("confirmed");
        await env.Login.RunAsync((_, _) => Task.CompletedTask, null, CancellationToken.None);
        env.ILink.Deliver("user-g@im.wechat", "回来了");
        await WeSeekTestHost.WaitUntilAsync(() => env.ILink.Sent.Count == 1);
        Assert.Equal(ILinkPollerState.Polling, env.Channel.State);
    }

    [Fact]
    public async Task MainSessionExpires_TheBackupAccountTakesOverAndTheMainOneComesBack()
    {
        await using var env = await Env.StartLoggedInAsync(null, "--ILink:BackupAccount=backup");
        var main = env.ILink.LastToken!;
        var backupLogin = new ILinkLogin(env.App.Services.GetRequiredService<ILinkApiClient>(), env.Store,
            Microsoft.Extensions.Options.Options.Create(new ILinkOptions { Account = "backup", BaseUrl = env.ILink.BaseUrl, QrPollInterval = TimeSpan.Zero }),
            TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLogger<ILinkLogin>.Instance);
        env.ILink.ScriptQr("confirmed");
        Assert.Equal(ILinkLoginOutcome.LoggedIn, (await backupLogin.RunAsync((_, _) => Task.CompletedTask, null, CancellationToken.None)).Outcome);
        var backup = env.ILink.LastToken!;
        Assert.True(env.ILink.PollTokens.All(t => t == main));

        env.ILink.ExpireSession(main);
        await WeSeekTestHost.WaitUntilAsync(() => env.ILink.PollTokens[^1] == backup);
        env.ILink.Deliver("user-k@im.wechat", "备用号在吗");
        await WeSeekTestHost.WaitUntilAsync(() => env.ILink.Sent.Count == 1);
        Assert.Contains(env.Notices.Current, n => n.Contains("backup account 'backup'", StringComparison.Ordinal));

        env.ILink.ScriptQr("confirmed");
        await env.Login.RunAsync((_, _) => Task.CompletedTask, null, CancellationToken.None);
        var renewed = env.ILink.LastToken!;
        await WeSeekTestHost.WaitUntilAsync(() => env.ILink.PollTokens[^1] == renewed);
    }

    [Fact]
    public async Task NewLoginWhilePolling_ThePollerSwitchesToTheNewToken()
    {
        await using var env = await Env.StartLoggedInAsync();
        var first = env.ILink.LastToken!;
        await WeSeekTestHost.WaitUntilAsync(() => env.ILink.PollTokens.Contains(first));

        env.ILink.ScriptQr("confirmed");
        await env.Login.RunAsync((_, _) => Task.CompletedTask, null, CancellationToken.None);
        var second = env.ILink.LastToken!;

        Assert.NotEqual(first, second);
        await WeSeekTestHost.WaitUntilAsync(() => env.ILink.PollTokens[^1] == second);
        var switched = env.ILink.PollTokens.Count;
        await WeSeekTestHost.WaitUntilAsync(() => env.ILink.PollTokens.Count >= switched + 2);
        Assert.All(env.ILink.PollTokens.Skip(switched), t => Assert.Equal(second, t));
    }

    [Fact]
    public async Task RateLimited_BacksOffCountsItAndThenDelivers()
    {
        await using var env = await Env.StartLoggedInAsync();
        using var rateLimited = new MetricCollector<long>(env.App.Services.GetRequiredService<IMeterFactory>(), "WeSeek", "weseek.ilink.rate_limited");
        env.ILink.FailNextPolls(-2);
        env.ILink.FailNextSends(-2, -2);
        env.ILink.Deliver("user-h@im.wechat", "慢点");

        await WeSeekTestHost.WaitUntilAsync(() => env.ILink.Sent.Count == 1);
        Assert.Equal("答：慢点", env.ILink.Sent[0].Text);
        var counted = rateLimited.GetMeasurementSnapshot().Sum(m => m.Value);
        Assert.True(counted >= 3, $"counted {counted}");
    }

    [Fact]
    public async Task Typing_StartsWhenTheMessageIsStoredAndIsCancelledForTheReply()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var env = await Env.StartLoggedInAsync(model => { model.OnCall = (_, ct) => gate.Task.WaitAsync(ct); return model; });
        env.ILink.Deliver("user-i@im.wechat", "想一想");

        await WeSeekTestHost.WaitUntilAsync(() => env.ILink.Typing.Any(t => t.Status == 1));
        Assert.Empty(env.ILink.Sent);
        gate.SetResult();
        await WeSeekTestHost.WaitUntilAsync(() => env.ILink.Typing.Any(t => t.Status == 2) && env.ILink.Sent.Count == 1);
        Assert.All(env.ILink.Typing, t => Assert.Equal("user-i@im.wechat", t.UserId));
        Assert.Empty(env.ILink.ProtocolErrors);
    }

    [Fact]
    public async Task TwoProcessesOneToken_OnlyOnePollsAndTheOtherTakesOverWhenItStops()
    {
        var data = new TempDirectory();
        await using var ilink = await FakeILinkServer.StartAsync();
        await using var first = await Env.StartLoggedInAsync(data, ilink);
        await using var second = await Env.StartAsync(data, ilink);

        await WeSeekTestHost.WaitUntilAsync(() => second.Channel.State == ILinkPollerState.WaitingForLease);
        var polls = ilink.Cursors.Count;
        await WeSeekTestHost.WaitUntilAsync(() => ilink.Cursors.Count >= polls + 3);
        Assert.Equal(ILinkPollerState.Polling, first.Channel.State);
        Assert.Equal(ILinkPollerState.WaitingForLease, second.Channel.State);
        Assert.Equal(1, ilink.MaxConcurrentPolls);

        await first.DisposeAsync();
        await WeSeekTestHost.WaitUntilAsync(() => second.Channel.State == ILinkPollerState.Polling);
        ilink.Deliver("user-j@im.wechat", "换人了");
        await WeSeekTestHost.WaitUntilAsync(() => ilink.Sent.Count == 1);
        Assert.Equal(1, ilink.MaxConcurrentPolls);
        data.Dispose();
    }

    /// <summary>The host with the iLink channel on, against a fake iLink server it owns unless one is passed in
    /// (with a data directory) to share between two hosts.</summary>
    private sealed class Env : IAsyncDisposable
    {
        private readonly WeSeekTestHost _host;
        private readonly FakeILinkServer? _ownedILink;
        private bool _disposed;

        private Env(WeSeekTestHost host, FakeILinkServer ilink, FakeILinkServer? ownedILink, ScriptedChatClient model)
        {
            _host = host;
            ILink = ilink;
            _ownedILink = ownedILink;
            Model = model;
        }

        public FakeILinkServer ILink { get; }

        public ScriptedChatClient Model { get; }

        public WebApplication App => _host.App;

        public ILinkLogin Login => _host.GetRequiredService<ILinkLogin>();

        public ILinkChannel Channel => _host.GetRequiredService<ILinkChannel>();

        public IOperatorNotices Notices => _host.GetRequiredService<IOperatorNotices>();

        public IChannelStateStore Store => _host.GetRequiredService<IChannelStateStore>();

        public static async Task<Env> StartAsync(params string[] extra)
        {
            var ilink = await FakeILinkServer.StartAsync();
            return await StartCoreAsync(null, ilink, true, null, extra);
        }

        public static Task<Env> StartAsync(TempDirectory data, FakeILinkServer ilink) => StartCoreAsync(data, ilink, false, null, []);

        public static async Task<Env> StartLoggedInAsync(Func<ScriptedChatClient, ScriptedChatClient>? model = null, params string[] extra)
        {
            var ilink = await FakeILinkServer.StartAsync();
            return await LogInAsync(await StartCoreAsync(null, ilink, true, model, extra));
        }

        public static async Task<Env> StartLoggedInAsync(TempDirectory data, FakeILinkServer ilink) =>
            await LogInAsync(await StartCoreAsync(data, ilink, false, null, []));

        private static async Task<Env> LogInAsync(Env env)
        {
            env.ILink.ScriptQr("confirmed");
            var result = await env.Login.RunAsync((_, _) => Task.CompletedTask, null, CancellationToken.None);
            Assert.Equal(ILinkLoginOutcome.LoggedIn, result.Outcome);
            await WeSeekTestHost.WaitUntilAsync(() => env.Channel.State == ILinkPollerState.Polling);
            return env;
        }

        private static async Task<Env> StartCoreAsync(TempDirectory? data, FakeILinkServer ilink, bool ownsILink, Func<ScriptedChatClient, ScriptedChatClient>? setup, string[] extra)
        {
            var model = ScriptedChatClient.Echo();
            model = setup?.Invoke(model) ?? model;
            var host = await WeSeekTestHost.StartAsync(
            [
                "--ILink:Enabled=true",
                "--ILink:BaseUrl=" + ilink.BaseUrl,
                "--ILink:LongPollTimeout=00:00:10",
                "--ILink:LeaseRetryInterval=00:00:00.100",
                "--ILink:RetryDelay=00:00:00.020",
                "--ILink:MaxRetryDelay=00:00:00.200",
                "--ILink:QrPollInterval=00:00:00",
                "--ILink:TypingKeepAlive=00:00:01",
                "--Outbox:RetryDelay=00:00:00.100",
                .. extra,
            ], model, data: data);
            return new Env(host, ilink, ownsILink ? ilink : null, model);
        }

        public async ValueTask DisposeAsync()
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            await _host.DisposeAsync();
            if (_ownedILink is not null)
            {
                await _ownedILink.DisposeAsync();
            }
        }
    }
}
