using System.Reflection;
using WeSeek.Channels;
using WeSeek.Logging;

namespace WeSeek.Tests.Logging;

/// <summary>Log event ids are an API (dashboards and alerts filter on them): one id, one event, across both
/// registries, each within the ranges it owns.</summary>
public sealed class EventIdTests
{
    [Fact]
    public void EveryEventId_IsUsedOnce_AcrossTheCoreAndTheChannelRegistries()
    {
        var ids = Ids(typeof(WeSeekEventId)).Concat(Ids(typeof(ChannelEventId))).ToList();

        var reused = ids.GroupBy(i => i.Value).Where(g => g.Count() > 1).Select(g => $"{g.Key}: {string.Join(", ", g.Select(i => i.Name))}").ToList();
        Assert.True(reused.Count == 0, "Event ids used twice: " + string.Join("; ", reused));
    }

    [Fact]
    public void ChannelEventIds_StayInTheRangesTheCoreReservesForThem()
    {
        // WeSeekEventId's summary: 1100-1199 (and 1200-1299 OneBot, 1300-1399 iLink) are WeSeek.Channels'.
        Assert.All(Ids(typeof(ChannelEventId)), i => Assert.InRange(i.Value, 1100, 1399));
        Assert.All(Ids(typeof(WeSeekEventId)), i => Assert.False(i.Value is >= 1100 and <= 1399, $"{i.Name} ({i.Value}) is in WeSeek.Channels' range"));
    }

    private static IEnumerable<(string Name, int Value)> Ids(Type registry) =>
        registry.GetFields(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static)
            .Where(f => f is { IsLiteral: true } && f.FieldType == typeof(int))
            .Select(f => (registry.Name + "." + f.Name, (int)f.GetRawConstantValue()!));
}
