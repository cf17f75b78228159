namespace WeSeek.Conversations;

/// <summary>Time zone lookup that works without the OS database (containers often lack tzdata).</summary>
internal static class TimeZones
{
    /// <summary>China Standard Time, UTC+8 without daylight saving, for when tzdata is missing.</summary>
    private static readonly TimeZoneInfo ChinaFallback = TimeZoneInfo.CreateCustomTimeZone("Asia/Shanghai", TimeSpan.FromHours(8), "China Standard Time", "China Standard Time");

    public static TimeZoneInfo Find(string id)
    {
        try
        {
            return TimeZoneInfo.FindSystemTimeZoneById(id);
        }
        catch (TimeZoneNotFoundException) when (id is "Asia/Shanghai" or "China Standard Time")
        {
            return ChinaFallback;
        }
    }

    /// <summary>True when <paramref name="id"/> names a zone this machine knows.</summary>
    public static bool Exists(string id)
    {
        try
        {
            Find(id);
            return true;
        }
        catch (TimeZoneNotFoundException)
        {
            return false;
        }
        catch (InvalidTimeZoneException)
        {
            return false;
        }
    }
}
