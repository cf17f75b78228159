using Microsoft.Extensions.DependencyInjection;
using WeSeek.Messaging;
using WeSeek.TestKit;

namespace WeSeek.Tests.Outbox;

/// <summary>Passive replies taken out of the outbox: once, in order, never also sent by the sender.</summary>
public sealed class ReplyClaimsTests
{
    [Fact]
    public async Task WaitAndClaim_TurnCompletesWithinTimeout_ClaimsReplyAndSenderSendsNothing()
    {
        await using var core = await CoreHarness.CreateAsync();
        var claims = core.Services.GetRequiredService<IReplyClaims>();
        var accepted = await core.ReceiveAsync("m1", "u1", "你好");
        var waiting = claims.WaitAndClaimAsync(accepted.InboxId, core.Channel.Id, "acct", "u1", 1, TimeSpan.FromSeconds(4), CancellationToken.None);
        await core.RunTurnsAsync();
        await core.SendDueAsync();
        var claimed = await waiting;

        Assert.Equal("答：你好", Assert.Single(claimed).Text);
        Assert.Empty(core.Channel.Sent);
        await core.SendDueAsync();
        Assert.Empty(core.Channel.Sent);
        Assert.Empty(await claims.ClaimAsync(core.Channel.Id, "acct", "u1", 5, CancellationToken.None));
    }

    [Fact]
    public async Task WaitAndClaim_TimeoutPassesFirst_ReturnsEmptyAndSenderDelivers()
    {
        await using var core = await CoreHarness.CreateAsync();
        var claims = core.Services.GetRequiredService<IReplyClaims>();
        var accepted = await core.ReceiveAsync("m1", "u1", "你好");
        var waiting = claims.WaitAndClaimAsync(accepted.InboxId, core.Channel.Id, "acct", "u1", 1, TimeSpan.FromSeconds(4), CancellationToken.None);
        core.Time.Advance(TimeSpan.FromSeconds(4));
        Assert.Empty(await waiting);

        await core.RunTurnsAsync();
        await core.SendDueAsync();
        Assert.Equal("答：你好", Assert.Single(core.Channel.Sent).Message.Text);
    }

    [Fact]
    public async Task PassiveReplyWindow_TurnFinishesBeforeTheChannelWaits_ReplyStillClaimedNotSent()
    {
        await using var core = await CoreHarness.CreateAsync();
        var claims = core.Services.GetRequiredService<IReplyClaims>();
        var message = core.Channel.Message("m1", "u1", "你好", isGroup: false, sender: null) with { PassiveReplyWindow = TimeSpan.FromSeconds(4) };
        var accepted = await core.Sink.AcceptAsync(message, CancellationToken.None);

        // The whole turn and a sender pass happen before the callback gets to wait.
        await core.RunTurnsAsync();
        var nextDue = await core.SendDueAsync();
        Assert.Empty(core.Channel.Sent);
        Assert.Equal(core.Time.GetUtcNow() + TimeSpan.FromSeconds(4), nextDue);

        var claimed = await claims.WaitAndClaimAsync(accepted.InboxId, core.Channel.Id, "acct", "u1", 1, TimeSpan.FromSeconds(4), CancellationToken.None);
        Assert.Equal("答：你好", Assert.Single(claimed).Text);
        await core.SendDueAsync();
        Assert.Empty(core.Channel.Sent);
    }

    [Fact]
    public async Task PassiveReplyWindow_NobodyWaits_SenderDeliversAtTheDeadline()
    {
        await using var core = await CoreHarness.CreateAsync();
        var message = core.Channel.Message("m1", "u1", "你好", isGroup: false, sender: null) with { PassiveReplyWindow = TimeSpan.FromSeconds(4) };
        await core.Sink.AcceptAsync(message, CancellationToken.None);
        await core.RunTurnsAsync();
        await core.SendDueAsync();
        Assert.Empty(core.Channel.Sent);

        core.Time.Advance(TimeSpan.FromSeconds(4));
        await core.SendDueAsync();
        Assert.Equal("答：你好", Assert.Single(core.Channel.Sent).Message.Text);
    }

    [Fact]
    public async Task ChannelWithoutPush_ReplyNeverSentNorGivenUp_ClaimedWhenTheUserWritesAgain()
    {
        await using var core = await CoreHarness.CreateAsync(capabilities: new ChannelCapabilities { Push = false });
        var claims = core.Services.GetRequiredService<IReplyClaims>();
        await core.ReceiveAsync("m1", "u1", "你好");
        await core.RunTurnsAsync();
        for (var hour = 0; hour < 48; hour++)
        {
            core.Time.Advance(TimeSpan.FromHours(1));
            Assert.Null(await core.SendDueAsync());
        }

        Assert.Empty(core.Channel.Sent);
        Assert.Equal("答：你好", Assert.Single(await claims.ClaimAsync(core.Channel.Id, "acct", "u1", 1, CancellationToken.None)).Text);
    }
}
