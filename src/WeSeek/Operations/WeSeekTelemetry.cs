using System.Diagnostics;

namespace WeSeek.Operations;

/// <summary>
/// The core's <c>WeSeek</c> activity source. A message's trace starts in the request that delivered it (the
/// channel's callback or socket); the inbox stores its <c>traceparent</c>, so the turn that runs later (maybe
/// after a restart) and every send that answers it are children of that request: one trace from callback to
/// the last chunk sent.
/// </summary>
internal static class WeSeekTelemetry
{
    public static readonly ActivitySource Source = new("WeSeek");

    /// <summary>Starts an activity under a stored <c>traceparent</c> (none when nobody listens).</summary>
    public static Activity? Start(string name, ActivityKind kind, string? traceParent) =>
        ActivityContext.TryParse(traceParent, null, out var parent)
            ? Source.StartActivity(name, kind, parent)
            : Source.StartActivity(name, kind);
}
