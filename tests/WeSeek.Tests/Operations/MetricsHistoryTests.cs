using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using WeSeek.Operations;

namespace WeSeek.Tests.Operations;

/// <summary>The console's in-product history of the WeSeek meter: intervals fill from real measurements and close on
/// the clock. Each test uses its own channel name: other tests in the process record on the same meter.</summary>
public sealed class MetricsHistoryTests
{
    [Fact]
    public void Read_TheOpenInterval_HasMessagesAndLatencyPercentilesAsTheyAreRecorded()
    {
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-12-03T08:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        using var history = new MetricsHistory(time);
        using var meters = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var metrics = new WeSeekMetrics(meters.GetRequiredService<IMeterFactory>());
        // The model path's GenAI instrument (UseOpenTelemetry records it there).
        var timeToFirstChunk = meters.GetRequiredService<IMeterFactory>().Create(WeSeekMetrics.MeterName).CreateHistogram<double>("gen_ai.client.operation.time_to_first_chunk", "s");
        var channel = "history-" + Guid.NewGuid().ToString("N");

        metrics.Received.Add(2, WeSeekMetrics.Channel(channel));
        metrics.Sent.Add(1, WeSeekMetrics.Channel(channel), new("mode", "api"));
        for (var i = 1; i <= 100; i++)
        {
            timeToFirstChunk.Record(i / 100.0);
        }

        time.Advance(TimeSpan.FromSeconds(3));
        var open = history.Read(day: false)[^1];

        Assert.Equal(2, open.Received[channel]);
        Assert.Equal(1, open.Sent[channel]);
        Assert.Equal(3, open.Seconds);
        // Other tests may record latencies at the same time; these 100 dominate only if nothing else ran, so the
        // percentiles are checked for order and range rather than exact values.
        Assert.NotNull(open.TtftP50);
        Assert.True(open.TtftP50 <= open.TtftP99);
    }

    [Fact]
    public void Tick_ClosesTheHourPointEveryTenSeconds_AndTheDayPointEveryFiveMinutes()
    {
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-12-03T08:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        using var history = new MetricsHistory(time);
        using var meters = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var metrics = new WeSeekMetrics(meters.GetRequiredService<IMeterFactory>());
        var channel = "history-" + Guid.NewGuid().ToString("N");

        metrics.Received.Add(1, WeSeekMetrics.Channel(channel));
        time.Advance(MetricsHistory.HourStep);
        history.Tick();
        metrics.Received.Add(5, WeSeekMetrics.Channel(channel));
        var hour = history.Read(day: false);

        Assert.Equal(2, hour.Count);
        Assert.Equal(1, hour[0].Received[channel]);
        Assert.Equal(5, hour[1].Received[channel]);
        Assert.Single(history.Read(day: true));
        Assert.Equal(6, history.Read(day: true)[0].Received[channel]);

        for (var i = 0; i < 29; i++)
        {
            time.Advance(MetricsHistory.HourStep);
            history.Tick();
        }

        var day = history.Read(day: true);
        Assert.Equal(2, day.Count);
        Assert.Equal(6, day[0].Received[channel]);
        Assert.Equal(31, history.Read(day: false).Count);
    }
}
