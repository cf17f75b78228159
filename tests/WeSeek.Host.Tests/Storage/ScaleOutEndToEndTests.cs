using System.Diagnostics;
using System.Net;
using System.Text;
using Npgsql;
using WeSeek.Channels.WeChatCrypto;
using WeSeek.TestKit;

namespace WeSeek.Host.Tests.Storage;

/// <summary>
/// Two live <c>weseek serve</c> processes on one PostgreSQL database, against the fake WeChat API and a fake
/// OpenAI-compatible model: deliveries spread over both, an instance killed with SIGKILL mid-turn, and the
/// answers counted where WeChat would see them and in the database.
/// </summary>
public sealed class ScaleOutEndToEndTests
{
    private const string Token = "weseektoken";
    private const string AesKey = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
    private const string AppId = "wx0123456789abcdef";
    private const string CallbackPath = "/wechat/mp/demo";
    private static readonly WeChatMessageCrypto Crypto = new(Token, AesKey, AppId);
    private static readonly System.Text.Json.JsonSerializerOptions Relaxed = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    [Fact]
    public async Task SafeModeMessage_DeliveredThreeTimesAlternatelyToTwoInstances_OneModelCall_OneAnswer()
    {
        await using var cluster = await Cluster.StartAsync(model => model.ChunkDelay = TimeSpan.FromMilliseconds(200));
        var a = cluster.Start();
        var b = cluster.Start();
        await Cluster.WaitReadyAsync(a, b);

        // WeChat's retries of one message (same MsgId), to A, B and A while the first is still open.
        var deliveries = new List<Task<HttpResponseMessage>>();
        foreach (var instance in new[] { a, b, a })
        {
            deliveries.Add(Cluster.PostAsync(instance, "o-user", "三次投递", msgId: 42));
            await Task.Delay(300, TestContext.Current.CancellationToken);
        }

        var bodies = await Task.WhenAll((await Task.WhenAll(deliveries)).Select(async r =>
        {
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            return await r.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        }));
        await Task.Delay(2000, TestContext.Current.CancellationToken); // anything sent late would show now

        var passive = bodies.Where(body => body.StartsWith("<xml>", StringComparison.Ordinal)).ToList();
        Assert.Equal(1, passive.Count + cluster.WeChat.SentTexts.Count);
        Assert.Single(cluster.Model.Requests, r => r.ToJsonString(Relaxed).Contains("三次投递", StringComparison.Ordinal));
        Assert.Equal(1, await cluster.ScalarAsync("SELECT COUNT(*) FROM inbox"));
        Assert.Equal(1, await cluster.ScalarAsync("SELECT COUNT(*) FROM outbox WHERE state = 'sent'"));
    }

    [Fact]
    public async Task ThirtyMessagesInSixChats_OverTwoInstances_OneKilledMidTurnAndRestarted_EachAnsweredOnce_PacedAndCountedAcrossBoth()
    {
        await using var cluster = await Cluster.StartAsync(
            model => model.ChunkDelay = TimeSpan.FromMilliseconds(120),
            "--OfficialAccount:PassiveReplyBudget=00:00:00", "--Outbox:PacingInterval=00:00:01.500", "--Outbox:DailyCap=1000",
            "--Dispatcher:LeaseTime=00:00:04", "--Outbox:ClaimTime=00:00:04", "--Dispatcher:MaxConcurrentTurns=3");
        var a = cluster.Start();
        var b = cluster.Start();
        await Cluster.WaitReadyAsync(a, b);

        var chats = Enumerable.Range(0, 6).Select(i => $"o-chat{i}").ToArray();
        for (var i = 0; i < 30; i++)
        {
            var response = await Cluster.PostAsync(i % 2 == 0 ? a : b, chats[i % 6], $"Q{i}", msgId: 1000 + i);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        // Kill A once some answers are out and turns are still running. Sends are held at WeChat's door for the
        // moment (those already answered are marked sent within the second): a send that reached WeChat in the
        // instant before a crash would go again after the claim runs out, since WeChat's API has no idempotency
        // key (docs/scale-out.md); this test is about everything else a kill interrupts.
        await cluster.WaitForSentAsync(4);
        cluster.WeChat.HoldSends();
        await Task.Delay(1000, TestContext.Current.CancellationToken);
        a.Process.Kill(entireProcessTree: true);
        await a.Process.WaitForExitAsync(TestContext.Current.CancellationToken);
        cluster.WeChat.ReleaseSends();
        Assert.InRange(cluster.WeChat.SentTexts.Count, 4, 29);
        var restarted = cluster.Start(a.Port);
        await Cluster.WaitReadyAsync(restarted);

        await cluster.WaitForSentAsync(30, TimeSpan.FromSeconds(120));
        await Task.Delay(1500, TestContext.Current.CancellationToken);
        var sent = cluster.WeChat.SentTexts;
        Assert.Equal(30, sent.Count);
        Assert.Equal(Enumerable.Range(0, 30).Select(i => $"回答：Q{i}").Order(), sent.Order());
        Assert.Equal(30, await cluster.ScalarAsync("SELECT COUNT(*) FROM inbox WHERE state = 'done'"));
        Assert.Equal(30, await cluster.ScalarAsync("SELECT COUNT(*) FROM outbox WHERE state = 'sent'"));
        Assert.Equal(30, await cluster.ScalarAsync("SELECT COALESCE(SUM(count), 0)::bigint FROM send_counts"));
        // 1.5 s between two sends to one chat, whichever instance sent them.
        Assert.Equal(0, await cluster.ScalarAsync("""
            SELECT COUNT(*) FROM (
                SELECT sent_at - LAG(sent_at) OVER (PARTITION BY chat_id ORDER BY sent_at) AS gap FROM outbox WHERE state = 'sent'
            ) AS gaps WHERE gap < 1500
            """));
    }

    [Fact]
    public async Task ILinkPoller_RunsOnOneInstance_AndMovesToTheSurvivorWithinTheLeaseTime_WhenItsInstanceIsKilled()
    {
        await using var ilink = await FakeILinkServer.StartAsync();
        string[] ilinkArgs =
        [
            "--ILink:Enabled=true", "--ILink:BaseUrl=" + ilink.BaseUrl, "--ILink:LongPollTimeout=00:00:02", "--ILink:LeaseTtl=00:00:04",
            "--ILink:LeaseRetryInterval=00:00:00.200", "--ILink:RetryDelay=00:00:00.050", "--ILink:MaxRetryDelay=00:00:00.500",
            "--ILink:QrPollInterval=00:00:00", "--Outbox:PacingInterval=00:00:00",
        ];
        await using var cluster = await Cluster.StartAsync(null, ilinkArgs);
        ilink.ScriptQr("confirmed");
        var (exitCode, _, error) = await WeseekProcess.RunAsync(["login", "weixin", .. cluster.StorageArgs, .. ilinkArgs]);
        Assert.True(exitCode == 0, error);

        var a = cluster.Start();
        var b = cluster.Start();
        await Cluster.WaitReadyAsync(a, b);
        var holder = await cluster.LeaseHolderAsync(a, b);
        var polls = ilink.Cursors.Count;
        using (var patience = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
        {
            while (ilink.Cursors.Count < polls + 3)
            {
                await Task.Delay(50, patience.Token);
            }
        }

        Assert.Equal(1, ilink.MaxConcurrentPolls);
        var survivor = holder == a ? b : a;
        holder.Process.Kill(entireProcessTree: true);
        await holder.Process.WaitForExitAsync(TestContext.Current.CancellationToken);
        var killedAt = TimeProvider.System.GetTimestamp();

        Assert.Equal(survivor, await cluster.LeaseHolderAsync(survivor));
        // The lease is 4 s; the survivor looks every 0.2 s. A second of slack for this loaded machine.
        Assert.InRange(TimeProvider.System.GetElapsedTime(killedAt), TimeSpan.Zero, TimeSpan.FromSeconds(5));
        ilink.Deliver("user-k@im.wechat", "还在吗");
        using (var patience = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
        {
            while (ilink.Sent.Count < 1)
            {
                await Task.Delay(50, patience.Token);
            }
        }

        Assert.Equal("回答：还在吗", Assert.Single(ilink.Sent).Text);
        Assert.Equal(1, ilink.MaxConcurrentPolls);
    }

    [Fact]
    public async Task OneBotForwardConnection_IsHeldByOneInstance_AndMovesToTheSurvivor_WhenItsInstanceIsKilled()
    {
        const string oneBotToken = "onebot-token-0123456789";
        await using var impl = await FakeOneBotImplementation.ListenAsync(oneBotToken);
        await using var cluster = await Cluster.StartAsync(
            null, "--OneBot:Enabled=true", "--OneBot:Mode=Forward", "--OneBot:ForwardUrl=" + impl.Url, "--OneBot:AccessToken=" + oneBotToken,
            "--OneBot:LeaseTtl=00:00:04", "--OneBot:LeaseRetryInterval=00:00:00.200", "--OneBot:ReconnectDelay=00:00:00.050",
            "--OneBot:MaxReconnectDelay=00:00:00.200", "--Outbox:PacingInterval=00:00:00");
        var a = cluster.Start();
        var b = cluster.Start();
        await Cluster.WaitReadyAsync(a, b);
        var holder = await cluster.LeaseHolderAsync("onebot:", a, b);
        await WaitUntilAsync(() => impl.IsConnected);

        // Every reply goes out on the one connection, whichever instance ran the turn.
        for (var i = 0; i < 4; i++)
        {
            await impl.SendPrivateMessageAsync("wxid_ann", "before-" + i, "问" + i);
        }

        await WaitUntilAsync(() => impl.Actions.Count == 4);
        Assert.Equal(1, impl.Connections);
        Assert.Equal(1, impl.MaxOpenConnections);

        var survivor = holder == a ? b : a;
        holder.Process.Kill(entireProcessTree: true);
        await holder.Process.WaitForExitAsync(TestContext.Current.CancellationToken);
        Assert.Equal(survivor, await cluster.LeaseHolderAsync("onebot:", survivor));
        await WaitUntilAsync(() => impl.Connections == 2 && impl.IsConnected);

        await impl.SendPrivateMessageAsync("wxid_ann", "after", "还在吗");
        await WaitUntilAsync(() => impl.Actions.Count == 5);
        Assert.Equal("回答：还在吗", impl.Actions[4]["params"]!["message"]![0]!["data"]!["text"]!.GetValue<string>());
        Assert.Equal(1, impl.MaxOpenConnections);
        // Marked sent once the implementation's answer is back, a moment after it recorded the request.
        using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (await cluster.ScalarAsync("SELECT COUNT(*) FROM outbox WHERE state = 'sent'") < 5)
        {
            await Task.Delay(50, patience.Token);
        }

        Assert.Equal(5, await cluster.ScalarAsync("SELECT COUNT(*) FROM outbox"));
        // The instance without the connection left the replies to the holder instead of failing them.
        Assert.Equal(0, await cluster.ScalarAsync("SELECT COUNT(*) FROM outbox WHERE error IS NOT NULL OR attempts <> 1"));
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (!condition())
        {
            await Task.Delay(50, patience.Token);
        }
    }

    [Fact]
    public async Task DatabaseGoneForSeconds_WhileMessagesArrive_NothingAcknowledgedIsLost_TheTurnIsRetried_AndReadinessDropsAndReturns()
    {
        var atTheModel = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var answer = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var cluster = await Cluster.StartAsync(
            model => model.BeforeAnswer = async cancellationToken =>
            {
                atTheModel.TrySetResult();
                await answer.Task.WaitAsync(cancellationToken);
            },
            "--OfficialAccount:PassiveReplyBudget=00:00:00", "--Outbox:PacingInterval=00:00:00");
        // The instance reaches PostgreSQL through a relay the test cuts: the server stays up for everyone else.
        var direct = new NpgsqlConnectionStringBuilder(cluster.ConnectionString);
        await using var proxy = await LoopbackTcpProxy.StartAsync(direct.Host!, direct.Port);
        var a = cluster.Start(connectionString: new NpgsqlConnectionStringBuilder(cluster.ConnectionString) { Port = proxy.Port }.ConnectionString);
        await Cluster.WaitReadyAsync(a);
        await Cluster.WaitForReadinessAsync(a, HttpStatusCode.OK);

        // Acknowledged before the outage; its turn is at the model when the database goes away.
        using (var first = await Cluster.PostAsync(a, "o-user1", "第一", msgId: 1))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        }

        await atTheModel.Task.WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);
        await proxy.CutAsync();
        await Cluster.WaitForReadinessAsync(a, HttpStatusCode.ServiceUnavailable);

        // Arriving while the database is away: not stored, so not acknowledged (WeChat delivers it again).
        using (var second = await Cluster.PostAsync(a, "o-user2", "第二", msgId: 2))
        {
            Assert.False(second.IsSuccessStatusCode, $"a callback was acknowledged while the database was away ({second.StatusCode})");
        }

        // The model answers; the turn cannot store its answer, and fails.
        answer.SetResult();
        await a.WaitForOutputAsync("Turn for message 1 failed");
        Assert.Empty(cluster.WeChat.SentTexts);

        proxy.Restore();
        await Cluster.WaitForReadinessAsync(a, HttpStatusCode.OK);
        using (var again = await Cluster.PostAsync(a, "o-user2", "第二", msgId: 2))
        {
            Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        }

        await cluster.WaitForSentAsync(2);
        Assert.Equal(["回答：第一", "回答：第二"], cluster.WeChat.SentTexts.Order());
        // The first turn ran again after the outage: its first answer was never stored.
        Assert.Equal(2, cluster.Model.Requests.Count(r => r.ToJsonString(Relaxed).Contains("第一", StringComparison.Ordinal)));
        Assert.Equal(2, await cluster.ScalarAsync("SELECT COUNT(*) FROM inbox WHERE state = 'done'"));
        Assert.Equal(2, await cluster.ScalarAsync("SELECT COUNT(*) FROM outbox WHERE state = 'sent'"));
    }

    /// <summary>The shared parts (database, data directory with the key file, fake WeChat, fake model) and the
    /// <c>weseek serve</c> processes started on them.</summary>
    private sealed class Cluster : IAsyncDisposable
    {
        private readonly TempDirectory _data = new();
        private readonly List<Instance> _instances = [];
        private readonly string[] _extra;
        private string _database = "";

        private Cluster(string[] extra) => _extra = extra;

        public FakeWeChatServer WeChat { get; private set; } = null!;

        /// <summary>The data directory and database, for a verb run against the cluster's store.</summary>
        /// <summary>The database's connection string (straight to the server).</summary>
        public string ConnectionString => _database;

        public string[] StorageArgs => [$"--Storage:DataDirectory={_data.Path}", "--Storage:Provider=postgres", $"--Storage:ConnectionString={_database}"];

        /// <summary>Waits until one of <paramref name="instances"/> holds the iLink lease (its owner names the process id).</summary>
        public Task<Instance> LeaseHolderAsync(params Instance[] instances) => LeaseHolderAsync("ilink:", instances);

        /// <summary>Waits until one of <paramref name="instances"/> holds a lease whose name starts with <paramref name="prefix"/>.</summary>
        public async Task<Instance> LeaseHolderAsync(string prefix, params Instance[] instances)
        {
            using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            while (true)
            {
                await using (var connection = new NpgsqlConnection(_database))
                {
                    await connection.OpenAsync(patience.Token);
                    await using var command = new NpgsqlCommand("SELECT owner FROM leases WHERE name LIKE @prefix AND expires_at > (extract(epoch from now()) * 1000)::bigint;", connection);
                    command.Parameters.AddWithValue("prefix", prefix + "%");
                    if (await command.ExecuteScalarAsync(patience.Token) is string owner
                        && instances.FirstOrDefault(i => owner.Contains($":{i.Process.Id}:", StringComparison.Ordinal)) is { } holder)
                    {
                        return holder;
                    }
                }

                await Task.Delay(50, patience.Token);
            }
        }

        public FakeOpenAiServer Model { get; private set; } = null!;

        public static async Task<Cluster> StartAsync(Action<FakeOpenAiServer>? model, params string[] extra)
        {
            var cluster = new Cluster(extra)
            {
                WeChat = await FakeWeChatServer.StartAsync(),
                Model = await FakeOpenAiServer.StartAsync(),
                _database = await PostgresServer.CreateDatabaseAsync(),
            };
            cluster.Model.Script = messages => ["<think>\n想\n</think>\n\n", "回答", "：", ScriptedChatClient.UserText(messages[^1].Content)];
            model?.Invoke(cluster.Model);
            return cluster;
        }

        public Instance Start(int? port = null, string? connectionString = null)
        {
            port ??= TestHttp.FreePort();
            var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            string[] args =
            [
                Path.Combine(AppContext.BaseDirectory, "weseek.dll"), "serve", "--urls", $"http://127.0.0.1:{port}",
                $"--Storage:DataDirectory={_data.Path}", "--Storage:Provider=postgres", $"--Storage:ConnectionString={connectionString ?? _database}",
                "--Model:Provider=remote", $"--Model:Remote:BaseUrl={Model.BaseUrl}",
                "--OfficialAccount:Accounts:demo:Token=" + Token, "--OfficialAccount:Accounts:demo:EncodingAesKey=" + AesKey,
                "--OfficialAccount:Accounts:demo:AppId=" + AppId, "--OfficialAccount:Accounts:demo:AppSecret=secret",
                "--OfficialAccount:ApiBaseUrl=" + WeChat.BaseUrl, "--Outbox:PollInterval=00:00:00.200", "--Dispatcher:PollInterval=00:00:00.500",
                .. _extra,
            ];
            foreach (var arg in args)
            {
                start.ArgumentList.Add(arg);
            }

            var process = Process.Start(start)!;
            var errors = new System.Collections.Concurrent.ConcurrentQueue<string>();
            var output = new System.Collections.Concurrent.ConcurrentQueue<string>();
            process.OutputDataReceived += (_, e) =>
            {
                if (e.Data is { } line && output.Count < 10_000)
                {
                    output.Enqueue(line);
                }
            };
            process.ErrorDataReceived += (_, e) =>
            {
                if (e.Data is { } line && errors.Count < 50)
                {
                    errors.Enqueue(line);
                }
            };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            var instance = new Instance(process, port.Value, TestHttp.CreateClient(new Uri($"http://127.0.0.1:{port}"))) { Errors = errors, Output = output };
            _instances.Add(instance);
            return instance;
        }

        public static async Task WaitReadyAsync(params Instance[] instances)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
            foreach (var instance in instances)
            {
                while (true)
                {
                    Assert.False(instance.Process.HasExited, "weseek serve exited before it was ready: " + string.Join("\n", instance.Errors));
                    try
                    {
                        using var response = await instance.Http.GetAsync("/health/live", timeout.Token);
                        if (response.IsSuccessStatusCode)
                        {
                            break;
                        }
                    }
                    catch (HttpRequestException)
                    {
                    }

                    await Task.Delay(100, timeout.Token);
                }
            }
        }

        /// <summary>Waits until <c>/health/ready</c> answers <paramref name="status"/>.</summary>
        public static async Task WaitForReadinessAsync(Instance instance, HttpStatusCode status)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            while (true)
            {
                using (var response = await instance.Http.GetAsync("/health/ready", timeout.Token))
                {
                    if (response.StatusCode == status)
                    {
                        return;
                    }
                }

                await Task.Delay(100, timeout.Token);
            }
        }

        public static Task<HttpResponseMessage> PostAsync(Instance instance, string openId, string text, long msgId)
        {
            var now = TimeProvider.System.GetUtcNow();
            var (url, body) = FakeWeChatServer.Callback(CallbackPath, Token, Crypto, FakeWeChatServer.TextMessage("gh_demo", openId, text, msgId, now), now, FakeWeChatServer.NextNonce(), openId);
            return instance.Http.PostAsync(url, new StringContent(body, Encoding.UTF8, "text/xml"));
        }

        public async Task WaitForSentAsync(int count, TimeSpan? within = null)
        {
            using var timeout = new CancellationTokenSource(within ?? TimeSpan.FromSeconds(60));
            while (WeChat.SentTexts.Count < count)
            {
                await Task.Delay(50, timeout.Token);
            }
        }

        public async Task<long> ScalarAsync(string sql)
        {
            await using var connection = new NpgsqlConnection(_database);
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand(sql, connection);
            return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
        }

        public async ValueTask DisposeAsync()
        {
            foreach (var instance in _instances)
            {
                if (!instance.Process.HasExited)
                {
                    instance.Process.Kill(entireProcessTree: true);
                    await instance.Process.WaitForExitAsync();
                }

                instance.Http.Dispose();
                instance.Process.Dispose();
            }

            await WeChat.DisposeAsync();
            await Model.DisposeAsync();
            _data.Dispose();
        }
    }

    private sealed record Instance(Process Process, int Port, HttpClient Http)
    {
        /// <summary>What the process wrote to stderr (the first 50 lines): why it stopped, when it did.</summary>
        public System.Collections.Concurrent.ConcurrentQueue<string> Errors { get; init; } = new();

        /// <summary>What the process wrote to stdout (its log; the first 10,000 lines).</summary>
        public System.Collections.Concurrent.ConcurrentQueue<string> Output { get; init; } = new();

        /// <summary>Waits until a line of the log contains <paramref name="text"/>.</summary>
        public async Task WaitForOutputAsync(string text)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            while (!Output.Any(line => line.Contains(text, StringComparison.Ordinal)))
            {
                Assert.False(Process.HasExited, "weseek serve exited: " + string.Join("\n", Errors));
                await Task.Delay(50, timeout.Token);
            }
        }
    }
}
