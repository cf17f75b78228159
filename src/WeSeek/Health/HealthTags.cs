namespace WeSeek.Health;

/// <summary>Tags of WeSeek's health checks. <c>/health/live</c> runs none (the process answers);
/// <c>/health/ready</c> runs those tagged <see cref="Ready"/>.</summary>
public static class HealthTags
{
    /// <summary>Checks that must pass before the instance takes traffic: storage and the engine.</summary>
    public const string Ready = "ready";
}
