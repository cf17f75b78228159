using System.Diagnostics.Metrics;

namespace WeSeek.Operations;

/// <summary>
/// The core's instruments on the <c>WeSeek</c> meter, exported at <c>/metrics</c> (Prometheus names: dots
/// become underscores, counters get <c>_total</c>, seconds histograms <c>_seconds</c>). Model calls are measured
/// on the model path (<c>Inference/Pipeline</c>), with the OpenTelemetry GenAI names (<c>gen_ai.client.*</c>).
/// Latencies are histograms, so P50/P99 come from <c>histogram_quantile</c>. One per container: the meter comes
/// from the container's <see cref="IMeterFactory"/> and is disposed with it, so two hosts in one process (tests,
/// benchmarks) count apart. Thread-safe.
/// </summary>
internal sealed class WeSeekMetrics
{
    /// <summary>The meter every WeSeek component records on; <c>/metrics</c> exports it by this name.</summary>
    public const string MeterName = "WeSeek";

    public WeSeekMetrics(IMeterFactory meters)
    {
        ArgumentNullException.ThrowIfNull(meters);
        var meter = meters.Create(MeterName);
        Received = meter.CreateCounter<long>(
            "weseek.messages.received", "{message}", "Messages stored by the inbox, by channel (duplicates of a stored message not counted).");
        Duplicates = meter.CreateCounter<long>(
            "weseek.messages.duplicates", "{message}", "Deliveries of a message already stored (platform retries), by channel.");
        Sent = meter.CreateCounter<long>(
            "weseek.messages.sent", "{message}", "Replies delivered, by channel and mode (api: sent by the outbox; passive: in the platform's request).");
        SendFailures = meter.CreateCounter<long>(
            "weseek.messages.send_failures", "{attempt}", "Failed send attempts, by channel and whether they were given up (permanent).");
        FirstReplyLatency = meter.CreateHistogram(
            "weseek.reply.first_chunk.latency", "s", "From the message being stored to its first reply delivered, by channel.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = SecondsBuckets });
        TurnDuration = meter.CreateHistogram(
            "weseek.turn.duration", "s", "One pipeline run, by outcome (done, retry, failed).",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = SecondsBuckets });
        QuotaRejections = meter.CreateCounter<long>(
            "weseek.guard.quota_rejections", "{message}", "Messages not answered because the account reached its daily cap, by channel.");
        PluginFailures = meter.CreateCounter<long>(
            "weseek.plugins.failures", "{call}", "Plugin calls that threw or ran past Plugins:Timeout, by plugin and reason (error, timeout).");
        LastReplyLatency = meter.CreateHistogram(
            "weseek.reply.last_chunk.latency", "s", "From the message being stored to the last reply of its turn delivered, by channel: the end-to-end time.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = SecondsBuckets });
        ImageDescriptions = meter.CreateCounter<long>(
            "weseek.vision.descriptions", "{image}", "Images described, by source (cache: the same bytes were described before; model: the vision endpoint was called).");
        VisionFailures = meter.CreateCounter<long>(
            "weseek.vision.failures", "{image}", "Images the vision endpoint could not describe, by reason (error, timeout); those turns answer from the text.");
        Feedback = meter.CreateCounter<long>(
            "weseek.feedback", "{rating}", "Users' ratings of answers, by kind (up, down) and whether they came with a correction (a better answer).");
    }

    // Seconds from 5 ms to 5 min: callbacks sit at the low end, R1 answers at the high end.
    private static readonly double[] SecondsBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300];

    public Counter<long> Received { get; }

    public Counter<long> Duplicates { get; }

    public Counter<long> Sent { get; }

    public Counter<long> SendFailures { get; }

    public Histogram<double> FirstReplyLatency { get; }

    public Histogram<double> TurnDuration { get; }

    public Counter<long> QuotaRejections { get; }

    public Counter<long> PluginFailures { get; }

    public Histogram<double> LastReplyLatency { get; }

    public Counter<long> ImageDescriptions { get; }

    public Counter<long> VisionFailures { get; }

    public Counter<long> Feedback { get; }

    public static KeyValuePair<string, object?> Channel(string channel) => new("channel", channel);
}
