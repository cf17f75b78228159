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
}
