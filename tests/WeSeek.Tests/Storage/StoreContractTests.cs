using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using WeSeek.Conversations;
using WeSeek.Media;
using WeSeek.Messaging;
using WeSeek.Outbox;
using WeSeek.Plugins;
using WeSeek.Security;
using WeSeek.Storage;
using WeSeek.TestKit;
using WeSeek.Tests.Inbox;

namespace WeSeek.Tests.Storage;

/// <summary>
/// What every provider's stores promise, run against each provider (SQLite in a temporary directory, and a
/// fresh database on a real PostgreSQL): the core over the store, not hand-written SQL against one engine.
/// </summary>
public abstract class StoreContractTests
{
    private static readonly ChannelId Channel = ChannelId.From("ilink:bot");

    /// <summary>A connection string for a fresh database, or null for SQLite.</summary>
    protected abstract Task<string?> NewDatabaseAsync();

    protected abstract StorageProvider Provider { get; }

    private async Task<CoreHarness> CoreAsync(IDictionary<string, string?>? settings = null, string? dataDirectory = null, string? database = null, ChannelCapabilities? capabilities = null) =>
        await CoreHarness.CreateAsync(settings: settings, dataDirectory: dataDirectory, postgres: database ?? await NewDatabaseAsync(), capabilities: capabilities);

    [Fact]
    public async Task Store_IsTheConfiguredProvider_AtThisBuildsSchemaVersion()
    {
        await using var core = await CoreAsync();
        var database = core.Services.GetRequiredService<StoreDatabase>();
        await database.EnsureReadyAsync(CancellationToken.None);

        Assert.Equal(Provider, database.Provider);
        var (current, latest) = await database.SchemaVersionAsync(CancellationToken.None);
        Assert.Equal(latest, current);
        Assert.True(latest >= 1);
    }

    [Fact]
    public async Task Inbox_ConcurrentDeliveriesOfOneMessage_StoreItOnce_AndAnswerOnce()
    {
        await using var core = await CoreAsync();
        var deliveries = await Task.WhenAll(Enumerable.Range(0, 12).Select(_ => Task.Run(async () => await core.ReceiveAsync("m1", "alice", "你好"))));

        Assert.Single(deliveries, d => d.Outcome == AcceptOutcome.Stored);
        Assert.Single(deliveries.Select(d => d.InboxId).Distinct());
        await core.RunTurnsAsync();
        await core.SendDueAsync();
        Assert.Single(core.Channel.Sent);
        Assert.Single(((ScriptedChatClient)core.Client).Calls);
    }

    [Fact]
    public async Task Turns_OneConversationInArrivalOrder_HistoryCarriesEarlierTurns()
    {
        await using var core = await CoreAsync(new Dictionary<string, string?> { ["Outbox:PacingInterval"] = "00:00:00" });
        for (var i = 1; i <= 3; i++)
        {
            await core.ReceiveAsync("m" + i, "alice", "问题" + i);
        }

        await core.RunTurnsAsync();
        await core.SendDueAsync();

        Assert.Equal(["答：问题1", "答：问题2", "答：问题3"], core.Channel.Sent.Select(s => s.Message.Text));
        var calls = ((ScriptedChatClient)core.Client).Calls;
        Assert.Contains(calls[2], m => m.Text == "答：问题1");
        var state = await core.Services.GetRequiredService<IConversationStore>().LoadAsync(ConversationKeys.For(core.Channel.Message("x", "alice", ""), GroupContextScope.Shared), CancellationToken.None);
        Assert.Equal(6, state.Window.Count);
        Assert.Equal("问题1", state.Window[0].Content);
    }

    [Fact]
    public async Task Restart_AnswersWhatWasStoredExactlyOnce()
    {
        using var data = new TempDirectory();
        var database = await NewDatabaseAsync();
        await using (var first = await CoreAsync(dataDirectory: data.Path, database: database))
        {
            await first.ReceiveAsync("m1", "alice", "一");
            await first.ReceiveAsync("m2", "bob", "二");
        }

        await using var second = await CoreAsync(dataDirectory: data.Path, database: database);
        Assert.Equal(AcceptOutcome.Duplicate, (await second.ReceiveAsync("m1", "alice", "一")).Outcome);
        await second.RunTurnsAsync();
        await second.SendDueAsync();
        await second.RunTurnsAsync();
        await second.SendDueAsync();

        Assert.Equal(["答：一", "答：二"], second.Channel.Sent.Select(s => s.Message.Text).Order());
        Assert.DoesNotContain(await second.TranscriptAsync(), l => l.Inbound && l.State == "pending");
    }

    [Fact]
    public async Task Outbox_PacesAChat_AndCountsTheDailyCap()
    {
        var shortChannel = new ChannelCapabilities { MaxTextLength = 10, MaxTextBytes = 0 };
        await using var core = await CoreAsync(new Dictionary<string, string?> { ["Outbox:DailyCap"] = "2" }, capabilities: shortChannel);
        await core.ReceiveAsync("m1", "alice", "一二三四五六七八九十一二三四五六七八九十");
        await core.RunTurnsAsync();

        var wake = await core.SendDueAsync();
        Assert.Single(core.Channel.Sent);
        Assert.Equal(CoreHarness.Start + TimeSpan.FromSeconds(1.5), wake);
        core.Time.Advance(TimeSpan.FromSeconds(1.5));
        await core.SendDueAsync();
        core.Time.Advance(TimeSpan.FromSeconds(1.5));
        await core.SendDueAsync();

        // Three pieces, a cap of two: the third waits for tomorrow (Beijing).
        Assert.Equal(2, core.Channel.Sent.Count);
        Assert.Equal(TimeSpan.FromSeconds(1.5), core.Channel.Sent[1].At - core.Channel.Sent[0].At);
        var store = core.Services.GetRequiredService<IOutboxStore>();
        Assert.Equal(2, await store.SentCountAsync(core.Channel.Id, "acct", "2026-11-28", CancellationToken.None));
    }

    [Fact]
    public async Task ReplyClaims_ClaimAChatsRepliesOnce_AndCountThem()
    {
        await using var core = await CoreAsync();
        var stored = await core.ReceiveAsync("m1", "alice", "你好");
        await core.RunTurnsAsync();
        var claims = core.Services.GetRequiredService<IReplyClaims>();

        var first = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => claims.ClaimAsync(core.Channel.Id, "acct", "alice", 5, CancellationToken.None)));

        var claimed = Assert.Single(first.SelectMany(c => c));
        Assert.Equal(stored.InboxId, claimed.InboxId);
        Assert.Equal("答：你好", claimed.Text);
        await core.SendDueAsync();
        Assert.Empty(core.Channel.Sent);
        Assert.Equal(1, await core.Services.GetRequiredService<IOutboxStore>().SentCountAsync(core.Channel.Id, "acct", "2026-11-28", CancellationToken.None));
    }

    [Fact]
    public async Task ChannelState_IsEncrypted_AndLeasesGoToOneOwnerUntilTheyExpire()
    {
        await using var core = await CoreAsync();
        var state = core.Services.GetRequiredService<IChannelStateStore>();
        await state.SetAsync(Channel, "bot_token", "secret-token-0123456789", CancellationToken.None);
        await state.SetAsync(Channel, "cursor", "c:1", CancellationToken.None);
        await state.SetAsync(Channel, "cursor", null, CancellationToken.None);
        Assert.Equal("secret-token-0123456789", await state.GetAsync(Channel, "bot_token", CancellationToken.None));
        Assert.Null(await state.GetAsync(Channel, "cursor", CancellationToken.None));
        Assert.Equal(1, await DurableInboxTests.CountAsync(core, "SELECT COUNT(*) FROM channel_state WHERE key_id IS NOT NULL"));

        var leases = core.Services.GetRequiredService<IChannelLease>();
        var ttl = TimeSpan.FromSeconds(30);
        var racers = await Task.WhenAll(Enumerable.Range(0, 6).Select(i => leases.TryAcquireAsync("ilink:bot", "instance-" + i, ttl, CancellationToken.None).AsTask()));
        var winner = "instance-" + Array.IndexOf(racers, true);
        Assert.Single(racers, r => r);
        Assert.True(await leases.RenewAsync("ilink:bot", winner, ttl, CancellationToken.None));
        Assert.False(await leases.TryAcquireAsync("ilink:bot", "late", ttl, CancellationToken.None));

        core.Time.Advance(ttl);
        Assert.True(await leases.TryAcquireAsync("ilink:bot", "late", ttl, CancellationToken.None));
        Assert.False(await leases.RenewAsync("ilink:bot", winner, ttl, CancellationToken.None));
        await leases.ReleaseAsync("ilink:bot", "late", CancellationToken.None);
        Assert.True(await leases.TryAcquireAsync("ilink:bot", winner, ttl, CancellationToken.None));

        // A holder whose process on this machine is gone: taken at once on SQLite (every process on the file runs
        // here), left to its TTL on PostgreSQL (a holder with the same host name may run on another machine).
        var killed = $"{Environment.MachineName}:{await ExitedProcess.IdAsync(TestContext.Current.CancellationToken)}:0123";
        Assert.True(await leases.TryAcquireAsync("onebot:gone", killed, ttl, CancellationToken.None));
        Assert.Equal(Provider == StorageProvider.Sqlite, await leases.TryAcquireAsync("onebot:gone", LeaseOwners.ForThisProcess(), ttl, CancellationToken.None));
    }

    [Fact]
    public async Task Audit_ConcurrentAppends_KeepOneChain_ThatVerifies_AndCannotBeEdited()
    {
        await using var core = await CoreAsync();
        var audit = core.Services.GetRequiredService<AuditLog>();
        await Task.WhenAll(Enumerable.Range(0, 40).Select(i => Task.Run(() => audit.AppendAsync("test", new JsonObject { ["i"] = i }, CancellationToken.None))));

        var verification = await audit.VerifyAsync(CancellationToken.None);
        Assert.True(verification.IsIntact, verification.Problem);
        Assert.True(verification.Records >= 40);
        await Assert.ThrowsAnyAsync<System.Data.Common.DbException>(() => DurableInboxTests.ScalarAsync<object>(core, "UPDATE audit SET kind = 'x'"));
        await Assert.ThrowsAnyAsync<System.Data.Common.DbException>(() => DurableInboxTests.ScalarAsync<object>(core, "DELETE FROM audit"));
    }

    [Fact]
    public async Task AdminKeys_CreateAuthenticateRevoke()
    {
        await using var core = await CoreAsync();
        var keys = core.Services.GetRequiredService<AdminKeys>();
        var (secret, info) = await keys.CreateAsync("ops", CancellationToken.None);

        Assert.True(await keys.AnyActiveAsync(CancellationToken.None));
        Assert.Equal(info.Id, (await keys.AuthenticateAsync(secret, CancellationToken.None))?.Id);
        Assert.Null(await keys.AuthenticateAsync(secret + "x", CancellationToken.None));
        Assert.True(await keys.RevokeAsync(info.Id, CancellationToken.None));
        Assert.Null(await keys.AuthenticateAsync(secret, CancellationToken.None));
        Assert.NotNull(Assert.Single(await keys.ListAsync(CancellationToken.None)).RevokedAt);
    }

    [Fact]
    public async Task AdminKeys_KeepTheirRole_AndKeysMadeWithoutOneAreAdmin()
    {
        await using var core = await CoreAsync();
        var keys = core.Services.GetRequiredService<AdminKeys>();
        var (viewer, _) = await keys.CreateAsync("looker", AdminRole.Viewer, CancellationToken.None);
        var (operatorKey, _) = await keys.CreateAsync("ops", AdminRole.Operator, CancellationToken.None);
        var (admin, _) = await keys.CreateAsync("root", CancellationToken.None);

        Assert.Equal(AdminRole.Viewer, (await keys.AuthenticateAsync(viewer, CancellationToken.None))?.Role);
        Assert.Equal(AdminRole.Operator, (await keys.AuthenticateAsync(operatorKey, CancellationToken.None))?.Role);
        Assert.Equal(AdminRole.Admin, (await keys.AuthenticateAsync(admin, CancellationToken.None))?.Role);
    }

    [Fact]
    public async Task Feedback_ARatingAttachesToTheLastAnswer_ALaterOneReplacesIt_AndReadsBackDecrypted()
    {
        await using var core = await CoreAsync(new Dictionary<string, string?> { ["Outbox:PacingInterval"] = "00:00:00" });
        await core.ReceiveAsync("m1", "alice", "中国的首都是哪里？");
        await core.RunTurnsAsync();
        await core.ReceiveAsync("m2", "alice", "👎 更好的回答是：北京");
        await core.RunTurnsAsync();

        var down = Assert.Single(await Feedback.FeedbackCaptureTests.ReadAsync(core));
        Assert.Equal(WeSeek.Feedback.FeedbackKind.Down, down.Kind);
        Assert.Equal("更好的回答是：北京", down.Correction);
        Assert.Equal("答：中国的首都是哪里？", down.Answer.Answer);
        Assert.Single(((ScriptedChatClient)core.Client).Calls); // The rating was not a question.

        await core.ReceiveAsync("m3", "alice", "👍");
        await core.RunTurnsAsync();
        var up = Assert.Single(await Feedback.FeedbackCaptureTests.ReadAsync(core));
        Assert.Equal(WeSeek.Feedback.FeedbackKind.Up, up.Kind);
        Assert.Equal("更好的回答是：北京", up.Correction); // A bare rating keeps the correction given before.
    }

    [Fact]
    public async Task PluginSettings_AndImageDescriptions_RoundTrip()
    {
        await using var core = await CoreAsync();
        var plugins = core.Services.GetRequiredService<IPluginSettingsStore>();
        await plugins.SetAsync("wechat/bot/alice", "weather", false, CancellationToken.None);
        await plugins.SetAsync("wechat/bot/alice", "weather", true, CancellationToken.None);
        await plugins.SetAsync("wechat/bot/alice", "sql", false, CancellationToken.None);
        Assert.Equal(2, await DurableInboxTests.CountAsync(core, "SELECT COUNT(*) FROM plugin_settings WHERE chat = 'wechat/bot/alice'"));
        Assert.Equal(1, await DurableInboxTests.CountAsync(core, "SELECT COUNT(*) FROM plugin_settings WHERE enabled = 0"));

        var images = core.Services.GetRequiredService<IImageDescriptionStore>();
        Assert.Null(await images.FindAsync("abc", CancellationToken.None));
        await images.StoreAsync("abc", "一只猫", "vision", CancellationToken.None);
        await images.StoreAsync("abc", "一只猫", "vision", CancellationToken.None);
        Assert.Equal("一只猫", await images.FindAsync("abc", CancellationToken.None));
    }

    [Fact]
    public async Task Transcripts_ExportDecrypted_AndTheWebReaderSeesBothDirections()
    {
        await using var core = await CoreAsync();
        await core.ReceiveAsync("m1", "alice", "问题");
        await core.RunTurnsAsync();
        await core.SendDueAsync();

        var export = core.Services.GetRequiredService<TranscriptExport>();
        var plain = new StringWriter();
        Assert.Equal(2, await export.WriteAsync(plain, decrypt: true, conversation: null, CancellationToken.None));
        Assert.Contains("问题", plain.ToString(), StringComparison.Ordinal);
        var sealedExport = new StringWriter();
        await export.WriteAsync(sealedExport, decrypt: false, conversation: null, CancellationToken.None);
        Assert.DoesNotContain("问题", sealedExport.ToString(), StringComparison.Ordinal);

        var reader = core.Services.GetRequiredService<ITranscriptReader>();
        var entries = await reader.ReadAsync(core.Channel.Id, "alice", 10, CancellationToken.None);
        Assert.Equal(["问题", "答：问题"], entries.Select(e => e.Text));
        Assert.Single(await reader.ListChatsAsync(core.Channel.Id, "ali", 10, CancellationToken.None));
    }

    [Fact]
    public async Task Quota_CountsAUsersQuestionsOfTheDay()
    {
        await using var core = await CoreAsync(new Dictionary<string, string?> { ["Quota:PerUserDaily"] = "2" });
        for (var i = 1; i <= 3; i++)
        {
            await core.ReceiveAsync("q" + i, "alice", "问题" + i);
        }

        await core.RunTurnsAsync();

        Assert.Equal(2, ((ScriptedChatClient)core.Client).Calls.Count);
    }

    [Fact]
    public async Task GroupWindow_ShowsRecentChatter_AndErasesWhatNoWindowCanShow()
    {
        await using var core = await CoreAsync(new Dictionary<string, string?> { ["Context:GroupWindowMessages"] = "2" });
        for (var i = 1; i <= 4; i++)
        {
            await core.Sink.AcceptAsync(core.Channel.Message("g" + i, "room", "闲聊" + i, isGroup: true, sender: "bob") with { Kind = MessageKind.Other }, CancellationToken.None);
        }

        await core.Sink.AcceptAsync(core.Channel.Message("q", "room", "@bot 总结一下", isGroup: true, sender: "carol"), CancellationToken.None);
        await core.RunTurnsAsync();

        var call = Assert.Single(((ScriptedChatClient)core.Client).Calls);
        var prompt = string.Join("\n", call.Select(m => m.Text));
        Assert.Contains("闲聊4", prompt, StringComparison.Ordinal);
        Assert.DoesNotContain("闲聊1", prompt, StringComparison.Ordinal);
        // The same rows on every provider (GroupWindowTests has the rule itself).
        Assert.Equal(3, await DurableInboxTests.CountAsync(core, "SELECT COUNT(*) FROM inbox WHERE kind = 'Other' AND length(text) = 0"));
    }

    /// <summary>Two cores on one database, as two instances: the same data directory (the key file), one clock.</summary>
    private async Task<(CoreHarness A, CoreHarness B, TempDirectory Data)> TwoInstancesAsync(IDictionary<string, string?>? settings = null, ChannelCapabilities? capabilities = null)
    {
        var data = new TempDirectory();
        var database = await NewDatabaseAsync();
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(CoreHarness.Start);
        // Two identities even on SQLite, where a process normally takes the file's one identity (a restart picks up
        // its own work at once): here the file plays the shared database.
        var a = await CoreHarness.CreateAsync(settings: settings, dataDirectory: data.Path, postgres: database, capabilities: capabilities, time: time, configure: s => s.AddSingleton(new InstanceIdentity("instance-a")));
        var b = await CoreHarness.CreateAsync(settings: settings, dataDirectory: data.Path, postgres: database, capabilities: capabilities, time: time, configure: s => s.AddSingleton(new InstanceIdentity("instance-b")));
        return (a, b, data);
    }

    [Fact]
    public async Task TwoInstances_OneMessageDeliveredToBoth_IsStoredOnce_RunsOnce_AndIsSentOnce()
    {
        var (a, b, data) = await TwoInstancesAsync();
        await using (a)
        await using (b)
        using (data)
        {
            var deliveries = await Task.WhenAll(
                Task.Run(async () => await a.ReceiveAsync("m1", "alice", "你好")),
                Task.Run(async () => await b.ReceiveAsync("m1", "alice", "你好")),
                Task.Run(async () => await a.ReceiveAsync("m1", "alice", "你好")));
            Assert.Single(deliveries, d => d.Outcome == AcceptOutcome.Stored);

            await Task.WhenAll(Task.Run(a.RunTurnsAsync), Task.Run(b.RunTurnsAsync));
            await Task.WhenAll(Task.Run(a.SendDueAsync), Task.Run(b.SendDueAsync));

            Assert.Equal(1, ((ScriptedChatClient)a.Client).Calls.Count + ((ScriptedChatClient)b.Client).Calls.Count);
            Assert.Equal(1, a.Channel.Sent.Count + b.Channel.Sent.Count);
        }
    }

    [Fact]
    public async Task TwoInstances_AppendingToTheAuditLogAtOnce_KeepOneChain_ThatVerifiesFromEither()
    {
        var (a, b, data) = await TwoInstancesAsync();
        await using (a)
        await using (b)
        using (data)
        {
            // Two stores, two in-process locks: only the database keeps the appends of the two in one sequence.
            var auditA = a.Services.GetRequiredService<AuditLog>();
            var auditB = b.Services.GetRequiredService<AuditLog>();
            var before = (await auditA.VerifyAsync(CancellationToken.None)).Records;
            var ids = await Task.WhenAll(Enumerable.Range(0, 60).Select(i => Task.Run(() =>
                (i % 2 == 0 ? auditA : auditB).AppendAsync("test", new JsonObject { ["i"] = i }, CancellationToken.None))));

            Assert.Equal(60, ids.Distinct().Count());
            foreach (var audit in new[] { auditA, auditB })
            {
                var verification = await audit.VerifyAsync(CancellationToken.None);
                Assert.True(verification.IsIntact, verification.Problem);
                Assert.Equal(before + 60, verification.Records);
            }
        }
    }

    [Fact]
    public async Task TwoInstances_ALeasedTurnIsNotRunElsewhere_UntilTheLeaseRunsOut_ThenTheLateFinisherStoresNothing()
    {
        var (a, b, data) = await TwoInstancesAsync(new Dictionary<string, string?> { ["Dispatcher:LeaseTime"] = "00:00:30" });
        await using (a)
        await using (b)
        using (data)
        {
            await a.ReceiveAsync("m1", "alice", "一");
            await a.ReceiveAsync("m2", "alice", "二");
            var storeA = a.Services.GetRequiredService<WeSeek.Pipeline.ITurnStore>();
            var storeB = b.Services.GetRequiredService<WeSeek.Pipeline.ITurnStore>();
            // A leases m1 and then "dies" (never completes, never renews).
            var leased = Assert.Single(await storeA.LeaseAsync(new HashSet<string>(), 8, CancellationToken.None));
            Assert.Empty(await storeB.LeaseAsync(new HashSet<string>(), 8, CancellationToken.None));

            a.Time.Advance(TimeSpan.FromSeconds(29));
            Assert.Empty(await storeB.LeaseAsync(new HashSet<string>(), 8, CancellationToken.None));
            a.Time.Advance(TimeSpan.FromSeconds(1));
            await b.RunTurnsAsync();
            await b.SendDueAsync();
            b.Time.Advance(TimeSpan.FromSeconds(2));
            await b.SendDueAsync();

            // In arrival order, m2 only after m1.
            Assert.Equal(["答：一", "答：二"], b.Channel.Sent.Select(s => s.Message.Text));
            Assert.False(await storeA.CompleteAsync(leased, ["迟到的答案"], [], failed: false, error: null, CancellationToken.None));
            await a.SendDueAsync();
            Assert.Empty(a.Channel.Sent);
            Assert.Equal(2, (await a.TranscriptAsync()).Count(l => !l.Inbound));
        }
    }

    [Fact]
    public async Task TwoInstances_PaceAChatAndCountTheDailyCapBetweenThem()
    {
        var shortChannel = new ChannelCapabilities { MaxTextLength = 10, MaxTextBytes = 0 };
        var (a, b, data) = await TwoInstancesAsync(new Dictionary<string, string?> { ["Outbox:DailyCap"] = "3" }, shortChannel);
        await using (a)
        await using (b)
        using (data)
        {
            // Two answers of two pieces each, to two chats of one account; a cap of three between both instances.
            await a.ReceiveAsync("m1", "alice", "一二三四五六七八九十一二三四五六七八");
            await b.ReceiveAsync("m2", "bob", "一二三四五六七八九十一二三四五六七八");
            await Task.WhenAll(Task.Run(a.RunTurnsAsync), Task.Run(b.RunTurnsAsync));
            for (var step = 0; step < 6; step++)
            {
                await Task.WhenAll(Task.Run(a.SendDueAsync), Task.Run(b.SendDueAsync));
                a.Time.Advance(TimeSpan.FromSeconds(0.5));
            }

            var sent = a.Channel.Sent.Concat(b.Channel.Sent).ToList();
            Assert.Equal(3, sent.Count);
            foreach (var chat in sent.GroupBy(s => s.Message.ChatId))
            {
                var times = chat.OrderBy(s => s.At).Select(s => s.At).ToList();
                for (var i = 1; i < times.Count; i++)
                {
                    Assert.True(times[i] - times[i - 1] >= TimeSpan.FromSeconds(1.5), $"{chat.Key}: {times[i] - times[i - 1]} apart");
                }
            }

            Assert.Equal(3, await a.Services.GetRequiredService<IOutboxStore>().SentCountAsync(a.Channel.Id, "acct", "2026-11-28", CancellationToken.None));
        }
    }
}

public sealed class SqliteStoreContractTests : StoreContractTests
{
    protected override StorageProvider Provider => StorageProvider.Sqlite;

    protected override Task<string?> NewDatabaseAsync() => Task.FromResult<string?>(null);
}

public sealed class PostgresStoreContractTests : StoreContractTests
{
    protected override StorageProvider Provider => StorageProvider.Postgres;

    protected override async Task<string?> NewDatabaseAsync() => await PostgresServer.CreateDatabaseAsync();

    [Fact]
    public async Task TwoInstances_ACallbackWaitingOnOne_GetsThePassiveReplyOfATurnThatRanOnTheOther()
    {
        using var data = new TempDirectory();
        var database = await NewDatabaseAsync();
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(CoreHarness.Start);
        await using var a = await CoreHarness.CreateAsync(dataDirectory: data.Path, postgres: database, time: time);
        await using var b = await CoreHarness.CreateAsync(dataDirectory: data.Path, postgres: database, time: time);
        var listener = a.Services.GetServices<Microsoft.Extensions.Hosting.IHostedService>().OfType<WeSeek.Storage.Postgres.PostgresNotifications>().Single();
        await listener.StartAsync(CancellationToken.None);
        try
        {
            // Instance A holds the platform's request open; the message is stored with its passive window.
            var message = a.Channel.Message("m1", "alice", "你好") with { PassiveReplyWindow = TimeSpan.FromSeconds(4) };
            var accepted = await a.Sink.AcceptAsync(message, CancellationToken.None);
            await Task.Delay(200, TestContext.Current.CancellationToken); // LISTEN in place
            var waiting = a.Services.GetRequiredService<IReplyClaims>().WaitAndClaimAsync(accepted.InboxId, a.Channel.Id, "acct", "alice", 1, TimeSpan.FromSeconds(4), CancellationToken.None);

            // B runs the turn; its sender must leave the reply to A's request.
            await b.RunTurnsAsync();
            await b.SendDueAsync();
            Assert.Empty(b.Channel.Sent);

            var claimed = await waiting.WaitAsync(TimeSpan.FromSeconds(20), TestContext.Current.CancellationToken);
            Assert.Equal("答：你好", Assert.Single(claimed).Text);
            await a.SendDueAsync();
            await b.SendDueAsync();
            Assert.Empty(a.Channel.Sent);
            Assert.Empty(b.Channel.Sent);
        }
        finally
        {
            await listener.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task TwoInstances_AConversationsNextTurn_WaitsForTheInstanceHoldingItsCache_WhileThatInstanceLives()
    {
        using var data = new TempDirectory();
        var database = await NewDatabaseAsync();
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(CoreHarness.Start);
        await using var a = await CoreHarness.CreateAsync(dataDirectory: data.Path, postgres: database, time: time);
        await using var b = await CoreHarness.CreateAsync(dataDirectory: data.Path, postgres: database, time: time);
        var storeA = a.Services.GetRequiredService<WeSeek.Pipeline.ITurnStore>();
        var storeB = b.Services.GetRequiredService<WeSeek.Pipeline.ITurnStore>();
        await a.ReceiveAsync("m1", "alice", "一");
        await a.RunTurnsAsync();

        // A ran alice's turn (its engine holds her cache) and is alive: B leaves her next message to A.
        await b.ReceiveAsync("m2", "alice", "二");
        Assert.Empty(await storeB.LeaseAsync(new HashSet<string>(), 8, CancellationToken.None));
        Assert.Equal("二", Assert.Single(await storeA.LeaseAsync(new HashSet<string>(), 8, CancellationToken.None)).Message.Text);
        await storeA.ReleaseLeasesAsync(CancellationToken.None);

        // A busy holder costs the message at most Dispatcher:CacheAffinityWait (5 s).
        time.Advance(TimeSpan.FromSeconds(5));
        Assert.Single(await storeB.LeaseAsync(new HashSet<string>(), 8, CancellationToken.None));
        await storeB.ReleaseLeasesAsync(CancellationToken.None);
        await a.RunTurnsAsync();

        // A dead holder (no heartbeat for a lease time) costs nothing: B takes a fresh message at once.
        time.Advance(TimeSpan.FromSeconds(31));
        await b.ReceiveAsync("m3", "alice", "三");
        Assert.Equal("三", Assert.Single(await storeB.LeaseAsync(new HashSet<string>(), 8, CancellationToken.None)).Message.Text);
    }
}
