using System.Globalization;
using Microsoft.Extensions.Options;
using WeSeek.Conversations;

namespace WeSeek.Outbox;

/// <summary>The days of the daily cap, in <see cref="OutboxOptions.DailyCapTimeZone"/>.</summary>
internal sealed class DailyCapCalendar
{
    private readonly TimeZoneInfo _zone;

    public DailyCapCalendar(IOptions<OutboxOptions> options) => _zone = TimeZones.Find(options.Value.DailyCapTimeZone);

    /// <summary>The day of <paramref name="at"/>, as yyyy-MM-dd in the cap's time zone.</summary>
    public string DayOf(DateTimeOffset at) =>
        TimeZoneInfo.ConvertTime(at, _zone).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    /// <summary>When <paramref name="at"/>'s day began, in the cap's time zone.</summary>
    public DateTimeOffset DayStart(DateTimeOffset at)
    {
        var local = TimeZoneInfo.ConvertTime(at, _zone);
        var midnight = new DateTime(local.Year, local.Month, local.Day, 0, 0, 0, DateTimeKind.Unspecified);
        return new DateTimeOffset(midnight, _zone.GetUtcOffset(midnight));
    }

    /// <summary>When the day after <paramref name="at"/>'s begins.</summary>
    public DateTimeOffset NextMidnight(DateTimeOffset at)
    {
        var midnight = TimeZoneInfo.ConvertTime(at, _zone).Date.AddDays(1);
        return new DateTimeOffset(midnight, _zone.GetUtcOffset(midnight));
    }
}
