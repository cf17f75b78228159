using System.Diagnostics.Metrics;
using Microsoft.Extensions.Hosting;

namespace WeSeek.Operations;

/// <summary>One interval of the product's own metrics, as the console charts them.</summary>
/// <param name="At">When the interval began (Unix seconds).</param>
/// <param name="Seconds">How long it covers so far (the newest point is still filling).</param>
/// <param name="Received">Messages stored by the inbox, by channel.</param>
/// <param name="Sent">Replies delivered, by channel.</param>
/// <param name="TtftP50">Median time to the model's first token, seconds; null without a model call.</param>
/// <param name="TtftP99">99th percentile of the same.</param>
/// <param name="AnswerP50">Median time from a message stored to its last reply delivered, seconds.</param>
/// <param name="AnswerP99">99th percentile of the same.</param>
/// <param name="TokensPerSecond">Mean output speed of the model calls that ended in the interval.</param>
/// <param name="Turns">Pipeline runs that ended.</param>
/// <param name="Errors">Turns that failed for good plus failed send attempts.</param>
/// <param name="ErrorRate">Errors per turn and send attempt; null when nothing ran.</param>
/// <param name="Inbox">Messages waiting for an answer at the end of the interval.</param>
/// <param name="Outbox">Replies waiting to be sent at the end of the interval.</param>
/// <param name="GpuUsedBytes">GPU memory in use (all GPUs); null without an NVIDIA driver.</param>
/// <param name="GpuTotalBytes">GPU memory size (all GPUs).</param>
/// <param name="KvUsedCells">KV cache cells in use in the embedded engine; null with a remote engine.</param>
/// <param name="KvTotalCells">KV cache cells in all.</param>
/// <param name="KvHitRate">Prompt tokens served from a kept KV cache, per prompt token; null without a prompt.</param>
public sealed record MetricsPoint(
    long At, int Seconds, IReadOnlyDictionary<string, long> Received, IReadOnlyDictionary<string, long> Sent,
    double? TtftP50, double? TtftP99, double? AnswerP50, double? AnswerP99, double? TokensPerSecond,
    long Turns, long Errors, double? ErrorRate, long Inbox, long Outbox,
    long? GpuUsedBytes, long? GpuTotalBytes, long? KvUsedCells, long? KvTotalCells, double? KvHitRate);

/// <summary>
/// The last hour and the last day of the product's own metrics, kept in memory so the console can chart them
/// without Prometheus. A <see cref="MeterListener"/> on the <c>WeSeek</c> meter sees every measurement the
/// exporters see; each is added to the open interval of both series: 10-second points for the hour (360) and
/// 5-minute points for the day (288). Gauges (queue depths, GPU memory, KV cells) are read when a point closes.
/// Memory is bounded: 648 points, and at most <see cref="MaxSamples"/> latencies per open interval.
/// A restart starts the charts empty; Prometheus (<c>/metrics</c>) is there for longer history.
/// </summary>
internal sealed class MetricsHistory : BackgroundService
{
    /// <summary>Resolution of the hour series: 360 points, fine enough to see one message arrive.</summary>
    public static readonly TimeSpan HourStep = TimeSpan.FromSeconds(10);

    /// <summary>Resolution of the day series: 288 points.</summary>
    public static readonly TimeSpan DayStep = TimeSpan.FromMinutes(5);

    // Latencies kept per open interval for the percentiles; beyond this the interval's percentiles come from its
    // first 4,096 calls, which at 10 s (or 5 min) is more traffic than one engine serves.
    private const int MaxSamples = 4096;

    private static readonly HashSet<string> Instruments = new(StringComparer.Ordinal)
    {
        "weseek.messages.received", "weseek.messages.sent", "weseek.messages.send_failures", "weseek.turn.duration",
        "gen_ai.client.operation.time_to_first_chunk", "weseek.reply.last_chunk.latency", "weseek.model.output_speed",
        "weseek.llama.prompt_tokens", "weseek.queue.depth", "hw.gpu.memory.usage", "hw.gpu.memory.limit", "weseek.llama.kv.cells",
        "weseek.moderation.hits",
    };

    private readonly TimeProvider _time;
    private readonly MeterListener _listener = new();
    private readonly Lock _lock = new();
    private readonly Series _hour;
    private readonly Series _day;
    private Gauges _gauges = new();
    private readonly Dictionary<string, long> _moderationHits = new(StringComparer.Ordinal);

    public MetricsHistory(TimeProvider time)
    {
        _time = time;
        var now = time.GetUtcNow();
        _hour = new Series(360, now);
        _day = new Series(288, now);
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == "WeSeek" && Instruments.Contains(instrument.Name))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Record(i.Name, v, tags));
        _listener.SetMeasurementEventCallback<int>((i, v, tags, _) => Record(i.Name, v, tags));
        _listener.SetMeasurementEventCallback<double>((i, v, tags, _) => Record(i.Name, v, tags));
        _listener.Start();
    }

    /// <summary>The points of the last hour (<paramref name="day"/> false) or day, oldest first; the last one is the
    /// interval still open.</summary>
    public IReadOnlyList<MetricsPoint> Read(bool day)
    {
        var gauges = ReadGauges();
        var now = _time.GetUtcNow();
        lock (_lock)
        {
            var series = day ? _day : _hour;
            return [.. series.Closed, series.Open.ToPoint(now, gauges)];
        }
    }

    /// <summary>Word-list and moderation-service hits since start, by list.</summary>
    public IReadOnlyDictionary<string, long> ModerationHits()
    {
        lock (_lock)
        {
            return new Dictionary<string, long>(_moderationHits, StringComparer.Ordinal);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(HourStep, _time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            Tick();
        }
    }

    /// <summary>Closes the hour's open point, and the day's once it spans <see cref="DayStep"/>; the timer calls it
    /// every <see cref="HourStep"/>.</summary>
    internal void Tick()
    {
        var gauges = ReadGauges();
        var now = _time.GetUtcNow();
        lock (_lock)
        {
            _hour.Close(now, gauges);
            if (now - _day.Open.Start >= DayStep)
            {
                _day.Close(now, gauges);
            }
        }
    }

    public override void Dispose()
    {
        _listener.Dispose();
        base.Dispose();
    }

    private Gauges ReadGauges()
    {
        lock (_lock)
        {
            _gauges = new Gauges();
            // The callbacks run on this thread and write into _gauges through Record.
            _listener.RecordObservableInstruments();
            return _gauges;
        }
    }

    private void Record(string name, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        lock (_lock)
        {
            switch (name)
            {
                case "weseek.queue.depth":
                    if (Tag(tags, "queue") == "inbox")
                    {
                        _gauges.Inbox += (long)value;
                    }
                    else
                    {
                        _gauges.Outbox += (long)value;
                    }

                    return;
                case "hw.gpu.memory.usage":
                    _gauges.GpuUsed = (_gauges.GpuUsed ?? 0) + (long)value;
                    return;
                case "hw.gpu.memory.limit":
                    _gauges.GpuTotal = (_gauges.GpuTotal ?? 0) + (long)value;
                    return;
                case "weseek.llama.kv.cells":
                    _gauges.KvTotal = (_gauges.KvTotal ?? 0) + (long)value;
                    if (Tag(tags, "state") == "used")
                    {
                        _gauges.KvUsed = (_gauges.KvUsed ?? 0) + (long)value;
                    }

                    return;
                case "weseek.moderation.hits":
                    var list = Tag(tags, "list") ?? "?";
                    _moderationHits[list] = _moderationHits.GetValueOrDefault(list) + (long)value;
                    return;
            }

            _hour.Open.Add(name, value, tags);
            _day.Open.Add(name, value, tags);
        }
    }

    private static string? Tag(ReadOnlySpan<KeyValuePair<string, object?>> tags, string key)
    {
        foreach (var tag in tags)
        {
            if (tag.Key == key)
            {
                return tag.Value?.ToString();
            }
        }

        return null;
    }

    private sealed class Gauges
    {
        public long Inbox;
        public long Outbox;
        public long? GpuUsed;
        public long? GpuTotal;
        public long? KvUsed;
        public long? KvTotal;
    }

    private sealed class Series(int capacity, DateTimeOffset start)
    {
        private readonly Queue<MetricsPoint> _closed = new(capacity);

        public IEnumerable<MetricsPoint> Closed => _closed;

        public Interval Open { get; private set; } = new(start);

        public void Close(DateTimeOffset now, Gauges gauges)
        {
            if (_closed.Count == capacity)
            {
                _closed.Dequeue();
            }

            _closed.Enqueue(Open.ToPoint(now, gauges));
            Open = new Interval(now);
        }
    }

    private sealed class Interval(DateTimeOffset start)
    {
        private readonly Dictionary<string, long> _received = new(StringComparer.Ordinal);
        private readonly Dictionary<string, long> _sent = new(StringComparer.Ordinal);
        private readonly List<double> _ttft = [];
        private readonly List<double> _answer = [];
        private double _speedSum;
        private long _speedCount;
        private long _turns;
        private long _failedTurns;
        private long _sendAttempts;
        private long _sendFailures;
        private long _cached;
        private long _prompt;

        public DateTimeOffset Start => start;

        public void Add(string name, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            switch (name)
            {
                case "weseek.messages.received":
                    Increment(_received, Tag(tags, "channel"), (long)value);
                    break;
                case "weseek.messages.sent":
                    Increment(_sent, Tag(tags, "channel"), (long)value);
                    _sendAttempts += (long)value;
                    break;
                case "weseek.messages.send_failures":
                    _sendFailures += (long)value;
                    _sendAttempts += (long)value;
                    break;
                case "weseek.turn.duration":
                    _turns++;
                    if (Tag(tags, "outcome") == "failed")
                    {
                        _failedTurns++;
                    }

                    break;
                case "gen_ai.client.operation.time_to_first_chunk":
                    Sample(_ttft, value);
                    break;
                case "weseek.reply.last_chunk.latency":
                    Sample(_answer, value);
                    break;
                case "weseek.model.output_speed":
                    _speedSum += value;
                    _speedCount++;
                    break;
                case "weseek.llama.prompt_tokens":
                    _prompt += (long)value;
                    if (Tag(tags, "source") == "cached")
                    {
                        _cached += (long)value;
                    }

                    break;
            }
        }

        public MetricsPoint ToPoint(DateTimeOffset now, Gauges gauges)
        {
            var errors = _failedTurns + _sendFailures;
            var attempts = _turns + _sendAttempts;
            return new MetricsPoint(
                start.ToUnixTimeSeconds(), (int)Math.Max(0, (now - start).TotalSeconds),
                new Dictionary<string, long>(_received, StringComparer.Ordinal), new Dictionary<string, long>(_sent, StringComparer.Ordinal),
                Percentile(_ttft, 0.50), Percentile(_ttft, 0.99), Percentile(_answer, 0.50), Percentile(_answer, 0.99),
                _speedCount == 0 ? null : _speedSum / _speedCount,
                _turns, errors, attempts == 0 ? null : (double)errors / attempts,
                gauges.Inbox, gauges.Outbox, gauges.GpuUsed, gauges.GpuTotal, gauges.KvUsed, gauges.KvTotal,
                _prompt == 0 ? null : (double)_cached / _prompt);
        }

        private static void Increment(Dictionary<string, long> counts, string? channel, long value)
        {
            channel ??= "?";
            counts[channel] = counts.GetValueOrDefault(channel) + value;
        }

        private static void Sample(List<double> samples, double value)
        {
            if (samples.Count < MaxSamples)
            {
                samples.Add(value);
            }
        }

        // Nearest rank on a sorted copy: exact for the samples kept, and an interval holds few.
        private static double? Percentile(List<double> samples, double quantile)
        {
            if (samples.Count == 0)
            {
                return null;
            }

            var sorted = samples.Order().ToArray();
            return sorted[Math.Clamp((int)Math.Ceiling(quantile * sorted.Length) - 1, 0, sorted.Length - 1)];
        }
    }
}
