using System.Diagnostics.Metrics;

namespace WeSeek.Operations;

/// <summary>
/// Instruments that the core and the channels both record into, on the <c>WeSeek</c> meter: the core where it
/// sees the moment (a streaming page's first token), a channel where only it does (WeChat's typing indicator).
/// One per container (a singleton); the meter comes from the container's <see cref="IMeterFactory"/> and is
/// disposed with it. Thread-safe.
/// </summary>
public sealed class ReplyInstruments
{
    private readonly Histogram<double> _typingLatency;

    /// <summary>Creates the instruments on <paramref name="meters"/>' <c>WeSeek</c> meter.</summary>
    public ReplyInstruments(IMeterFactory meters)
    {
        ArgumentNullException.ThrowIfNull(meters);
        _typingLatency = meters.Create("WeSeek").CreateHistogram(
            "weseek.reply.typing.latency", "s", "From the message being stored to the first sign of an answer on the user's screen (typing indicator, or the first streamed token in the web chat), by channel.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60] });
    }

    /// <summary>Records, for a channel, the time from the message being stored to the first sign of an answer on
    /// the user's screen: the typing indicator ("对方正在输入"), or the first streamed token in the web chat.</summary>
    public void RecordTyping(TimeSpan latency, string channel) =>
        _typingLatency.Record(Math.Max(0, latency.TotalSeconds), new KeyValuePair<string, object?>("channel", channel));
}
