using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using WeSeek.Pipeline;
using WeSeek.TestKit;
using WeSeek.Tests.Inbox;
using WeSeek.Tests.Storage;

namespace WeSeek.Tests.Pipeline;

public sealed class TurnDispatcherTests
{
    [Fact]
    public async Task Dispatch_ManyMessagesInOneConversation_ModelSeesThemInArrivalOrderOneAtATime()
    {
        var inFlight = 0;
        var maxInFlight = 0;
        var client = ScriptedChatClient.Echo();
        client.OnCall = async (_, ct) =>
        {
            var now = Interlocked.Increment(ref inFlight);
            InterlockedMax(ref maxInFlight, now);
            await Task.Yield();
            Interlocked.Decrement(ref inFlight);
        };
        await using var harness = await CoreHarness.CreateAsync(client);
        for (var i = 0; i < 8; i++)
        {
            await harness.ReceiveAsync($"m{i}", "alice", $"第{i}条");
        }

        await harness.RunTurnsAsync();

        var order = client.Calls.Select(c => ScriptedChatClient.UserText(c[^1].Text)).ToList();
        Assert.Equal(Enumerable.Range(0, 8).Select(i => $"第{i}条"), order);
        Assert.Equal(1, maxInFlight);
    }

    [Fact]
    public async Task Dispatch_ManyConversations_RunConcurrentlyUpToTheLimit()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var threeStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = 0;
        var client = ScriptedChatClient.Echo();
        client.OnCall = async (_, ct) =>
        {
            if (Interlocked.Increment(ref started) == 3)
            {
                threeStarted.SetResult();
            }

            await gate.Task.WaitAsync(ct);
        };
        await using var harness = await CoreHarness.CreateAsync(client, new Dictionary<string, string?> { ["Dispatcher:MaxConcurrentTurns"] = "3" });
        for (var i = 0; i < 5; i++)
        {
            await harness.ReceiveAsync($"m{i}", $"user{i}", "hi");
        }

        await harness.Dispatcher.DispatchAvailableAsync(CancellationToken.None);
        await threeStarted.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await harness.Dispatcher.DispatchAvailableAsync(CancellationToken.None);
        Assert.Equal(3, harness.Dispatcher.Running);
        Assert.Equal(3, Volatile.Read(ref started));

        gate.SetResult();
        await harness.RunTurnsAsync();
        Assert.Equal(5, client.Calls.Count);
    }

    [Fact]
    public async Task Turn_ModelFailsTwiceThenWorks_RetriedWithBackoffAndAnsweredOnce()
    {
        var failures = 2;
        var client = ScriptedChatClient.Echo();
        client.OnCall = (_, _) => Interlocked.Decrement(ref failures) >= 0 ? throw new HttpRequestException("connection refused") : Task.CompletedTask;
        await using var harness = await CoreHarness.CreateAsync(client);
        await harness.ReceiveAsync("m1", "alice", "你好");

        await harness.RunTurnsAsync();
        Assert.Single(client.Calls);
        harness.Time.Advance(TimeSpan.FromSeconds(1)); // first retry after 1 s
        await harness.RunTurnsAsync();
        Assert.Equal(2, client.Calls.Count);
        harness.Time.Advance(TimeSpan.FromSeconds(1)); // second retry waits 2 s
        await harness.RunTurnsAsync();
        Assert.Equal(2, client.Calls.Count);
        harness.Time.Advance(TimeSpan.FromSeconds(1));
        await harness.RunTurnsAsync();

        Assert.Equal(3, client.Calls.Count);
        Assert.Equal(1, await DurableInboxTests.CountAsync(harness, "SELECT COUNT(*) FROM outbox"));
        Assert.Equal("答：你好", Assert.Single(await DurableInboxTests.OutboxTextsAsync(harness)));
    }

    [Fact]
    public async Task Turn_ModelAlwaysFails_UserGetsTheFailureReplyOnce()
    {
        var client = ScriptedChatClient.Echo();
        client.OnCall = (_, _) => throw new HttpRequestException("connection refused");
        await using var harness = await CoreHarness.CreateAsync(client, new Dictionary<string, string?> { ["Dispatcher:MaxAttempts"] = "2" });
        await harness.ReceiveAsync("m1", "alice", "你好");

        await harness.RunTurnsAsync();
        harness.Time.Advance(TimeSpan.FromSeconds(5));
        await harness.RunTurnsAsync();
        harness.Time.Advance(TimeSpan.FromSeconds(5));
        await harness.RunTurnsAsync();

        Assert.Equal(2, client.Calls.Count);
        Assert.Equal("failed", Assert.Single(await harness.TranscriptAsync(), l => l.Inbound).State);
        Assert.StartsWith("抱歉", Assert.Single(await DurableInboxTests.OutboxTextsAsync(harness)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Turn_EachTurnGetsItsOwnScope_DisposedWhenTheTurnEnds()
    {
        var probes = new List<ScopeProbe>();
        await using var harness = await CoreHarness.CreateAsync(configure: services =>
        {
            services.AddScoped<ScopeProbe>();
            services.Replace(ServiceDescriptor.Singleton(new TurnPipeline(WeSeekServiceCollectionExtensions.BuildStandardPipeline()
                .Use(next => turn =>
                {
                    var probe = turn.Services.GetRequiredService<ScopeProbe>();
                    Assert.Same(probe, turn.Services.GetRequiredService<ScopeProbe>());
                    Assert.False(probe.Disposed);
                    lock (probes)
                    {
                        probes.Add(probe);
                    }

                    return next(turn);
                })
                .Build())));
        });
        await harness.ReceiveAsync("m1", "alice", "one");
        await harness.ReceiveAsync("m2", "bob", "two");

        await harness.RunTurnsAsync();

        Assert.Equal(2, probes.Count);
        Assert.NotSame(probes[0], probes[1]);
        Assert.All(probes, p => Assert.True(p.Disposed));
    }

    [Fact]
    public async Task Shutdown_TurnStillRunningAfterDrainTimeout_IsCancelledAndRunsAgainAfterRestart()
    {
        using var data = new TempDirectory();
        var blocked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var client = ScriptedChatClient.Echo();
        client.OnCall = async (_, ct) =>
        {
            blocked.TrySetResult();
            await Task.Delay(Timeout.Infinite, ct);
        };
        var settings = new Dictionary<string, string?> { ["Dispatcher:DrainTimeout"] = "00:00:00" };
        await using (var harness = await CoreHarness.CreateAsync(client, settings, dataDirectory: data.Path))
        {
            await harness.ReceiveAsync("m1", "alice", "你好");
            await harness.Dispatcher.StartAsync(CancellationToken.None);
            await blocked.Task.WaitAsync(TimeSpan.FromSeconds(30));
            await harness.Dispatcher.StopAsync(CancellationToken.None);
            Assert.Equal("pending", Assert.Single(await harness.TranscriptAsync(), l => l.Inbound).State);
        }

        await using var restarted = await CoreHarness.CreateAsync(settings: settings, dataDirectory: data.Path);
        await restarted.RunTurnsAsync();
        Assert.Equal("done", await DurableInboxTests.ScalarAsync<string>(restarted, "SELECT state FROM inbox"));
        Assert.Equal("答：你好", Assert.Single(await DurableInboxTests.OutboxTextsAsync(restarted)));
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int current;
        while ((current = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, current) != current)
        {
        }
    }

    private sealed class ScopeProbe : IDisposable
    {
        public bool Disposed { get; private set; }

        public void Dispose() => Disposed = true;
    }
}
