using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using WeSeek.Messaging;
using WeSeek.Storage.Sqlite;
using WeSeek.TestKit;

namespace WeSeek.Tests.Storage;

/// <summary>The channel state store and the lease on the real SQLite database, on virtual time.</summary>
public sealed class DurableChannelStateTests
{
    private static readonly ChannelId Channel = ChannelId.From("ilink:default");
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task State_SetGetReplaceRemove_SurvivesAReopenedDatabase()
    {
        using var data = new TempDirectory();
        await using (var first = await CoreHarness.CreateAsync(dataDirectory: data.Path))
        {
            var store = first.Services.GetRequiredService<IChannelStateStore>();
            await store.SetAsync(Channel, "cursor", "c:1", CancellationToken.None);
            await store.SetAsync(Channel, "cursor", "c:2", CancellationToken.None);
            await store.SetAsync(Channel, "bot_token", "secret", CancellationToken.None);
            await store.SetAsync(Channel, "bot_token", null, CancellationToken.None);
            await store.SetAsync(ChannelId.From("ilink:other"), "cursor", "elsewhere", CancellationToken.None);
        }

        await using var second = await CoreHarness.CreateAsync(dataDirectory: data.Path);
        var reopened = second.Services.GetRequiredService<IChannelStateStore>();
        Assert.Equal("c:2", await reopened.GetAsync(Channel, "cursor", CancellationToken.None));
        Assert.Null(await reopened.GetAsync(Channel, "bot_token", CancellationToken.None));
        Assert.Equal("elsewhere", await reopened.GetAsync(ChannelId.From("ilink:other"), "cursor", CancellationToken.None));
    }

    [Fact]
    public async Task Database_HoldsTokens_IsReadableByItsOwnerOnly()
    {
        if (OperatingSystem.IsWindows())
        {
            Assert.Skip("Unix file modes");
            return;
        }

        await using var harness = await CoreHarness.CreateAsync();
        var store = harness.Services.GetRequiredService<IChannelStateStore>();
        await store.SetAsync(Channel, "bot_token", "secret", CancellationToken.None);

        var path = harness.Services.GetRequiredService<SqliteDatabase>().Path;
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
    }

    [Fact]
    public async Task Values_AreEncryptedAtRest_AndRowsFromBeforeEncryptionStillRead()
    {
        using var data = new TempDirectory();
        const string Token = "ilink-bot-token-0123456789abcdef";
        await using (var harness = await CoreHarness.CreateAsync(dataDirectory: data.Path))
        {
            var store = harness.Services.GetRequiredService<IChannelStateStore>();
            await store.SetAsync(Channel, "bot_token", Token, CancellationToken.None);
            // A row written before values were encrypted: plaintext, no key id.
            await using var connection = await harness.Services.GetRequiredService<SqliteDatabase>().OpenAsync(CancellationToken.None);
            await using var legacy = connection.CreateCommand();
            legacy.CommandText = "INSERT INTO channel_state (channel, key, value, updated_at) VALUES ('ilink:old', 'cursor', 'plain-cursor', 0);";
            await legacy.ExecuteNonQueryAsync();
        }

        var raw = SqliteFiles.ReadAllAsText(Path.Combine(data.Path, "weseek.db"));
        await using var reopened = await CoreHarness.CreateAsync(dataDirectory: data.Path);
        var state = reopened.Services.GetRequiredService<IChannelStateStore>();

        Assert.DoesNotContain(Token, raw, StringComparison.Ordinal);
        Assert.Equal(Token, await state.GetAsync(Channel, "bot_token", CancellationToken.None));
        Assert.Equal("plain-cursor", await state.GetAsync(ChannelId.From("ilink:old"), "cursor", CancellationToken.None));
    }

    [Fact]
    public async Task Lease_HeldByOne_RefusedToAnotherUntilItExpiresOrIsReleased()
    {
        await using var harness = await CoreHarness.CreateAsync();
        var lease = harness.Services.GetRequiredService<IChannelLease>();

        Assert.True(await lease.TryAcquireAsync("ilink:abc", "a", Ttl, CancellationToken.None));
        Assert.False(await lease.TryAcquireAsync("ilink:abc", "b", Ttl, CancellationToken.None));
        Assert.True(await lease.TryAcquireAsync("ilink:abc", "a", Ttl, CancellationToken.None));
        Assert.True(await lease.TryAcquireAsync("ilink:other", "b", Ttl, CancellationToken.None));

        harness.Time.Advance(Ttl - TimeSpan.FromSeconds(1));
        Assert.True(await lease.RenewAsync("ilink:abc", "a", Ttl, CancellationToken.None));
        harness.Time.Advance(Ttl - TimeSpan.FromSeconds(1));
        Assert.False(await lease.TryAcquireAsync("ilink:abc", "b", Ttl, CancellationToken.None));

        harness.Time.Advance(TimeSpan.FromSeconds(2));
        Assert.True(await lease.TryAcquireAsync("ilink:abc", "b", Ttl, CancellationToken.None));
        Assert.False(await lease.RenewAsync("ilink:abc", "a", Ttl, CancellationToken.None));

        await lease.ReleaseAsync("ilink:abc", "a", CancellationToken.None);
        Assert.False(await lease.TryAcquireAsync("ilink:abc", "a", Ttl, CancellationToken.None));
        await lease.ReleaseAsync("ilink:abc", "b", CancellationToken.None);
        Assert.True(await lease.TryAcquireAsync("ilink:abc", "a", Ttl, CancellationToken.None));
    }

    [Fact]
    public async Task Lease_ManyContendersAtOnce_ExactlyOneWins()
    {
        using var data = new TempDirectory();
        var time = new FakeTimeProvider(CoreHarness.Start);
        await using var one = await CoreHarness.CreateAsync(dataDirectory: data.Path, time: time);
        await using var two = await CoreHarness.CreateAsync(dataDirectory: data.Path, time: time);
        var leases = new[] { one.Services.GetRequiredService<IChannelLease>(), two.Services.GetRequiredService<IChannelLease>() };

        var attempts = Enumerable.Range(0, 16).Select(i => Task.Run(async () => await leases[i % 2].TryAcquireAsync("ilink:race", "owner-" + i, Ttl, CancellationToken.None)));
        var won = await Task.WhenAll(attempts);

        Assert.Single(won, w => w);
    }

    [Fact]
    public async Task Lease_HeldByAProcessThatIsGone_IsTakenAtOnce_OnSqlite_ButNotFromALiveOne()
    {
        await using var harness = await CoreHarness.CreateAsync();
        var lease = harness.Services.GetRequiredService<IChannelLease>();
        var killed = $"{Environment.MachineName}:{await ExitedProcess.IdAsync(TestContext.Current.CancellationToken)}:0123";
        var alive = LeaseOwners.ForThisProcess();

        Assert.True(await lease.TryAcquireAsync("onebot:gone", killed, Ttl, CancellationToken.None));
        Assert.True(await lease.TryAcquireAsync("onebot:live", alive, Ttl, CancellationToken.None));

        // A restarted WeSeek (a new owner) connects at once instead of waiting out its dead predecessor's lease.
        Assert.True(await lease.TryAcquireAsync("onebot:gone", LeaseOwners.ForThisProcess(), Ttl, CancellationToken.None));
        Assert.False(await lease.TryAcquireAsync("onebot:live", LeaseOwners.ForThisProcess(), Ttl, CancellationToken.None));
        Assert.False(await lease.TryAcquireAsync("onebot:gone", killed, Ttl, CancellationToken.None));
    }
}
