using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;
using WeSeek.Operations;

namespace WeSeek.Inference.Pipeline;

/// <summary>
/// What a model call measures beyond the GenAI conventions that <c>UseOpenTelemetry()</c> records (duration, token
/// usage, time to first chunk, time per output chunk): output tokens per second after the first token
/// (<c>weseek.model.output_speed</c>) and the prompt tokens an engine answered from a kept KV cache
/// (<c>weseek.model.cached_input_tokens</c>). Streaming calls only: a whole response has no first token. Thread-safe.
/// </summary>
internal sealed class ModelMetricsChatClient : DelegatingChatClient
{
    private readonly TimeProvider _time;
    private readonly Histogram<double> _outputSpeed;
    private readonly Histogram<int> _cachedInput;

    public ModelMetricsChatClient(IChatClient innerClient, IMeterFactory meters, TimeProvider time)
        : base(innerClient)
    {
        _time = time;
        var meter = meters.Create(WeSeekMetrics.MeterName);
        _outputSpeed = meter.CreateHistogram(
            "weseek.model.output_speed", "{token}/s", "Output tokens per second of one model call, after its first token.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000] });
        _cachedInput = meter.CreateHistogram(
            "weseek.model.cached_input_tokens", "{token}", "Prompt tokens of one model call that the engine answered from a kept KV cache (a part of gen_ai.client.token.usage's input).",
            advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536] });
    }

    public override async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var started = _time.GetTimestamp();
        TimeSpan? firstToken = null;
        UsageDetails? usage = null;
        await foreach (var update in base.GetStreamingResponseAsync(messages, options, cancellationToken))
        {
            if (firstToken is null && update.Contents.Any(c => c is TextContent or TextReasoningContent))
            {
                firstToken = _time.GetElapsedTime(started);
            }

            if (update.Contents.OfType<UsageContent>().LastOrDefault() is { } used)
            {
                usage = used.Details;
            }

            yield return update;
        }

        if (usage?.CachedInputTokenCount is { } cached)
        {
            _cachedInput.Record((int)cached);
        }

        var decoding = _time.GetElapsedTime(started) - firstToken;
        if (usage?.OutputTokenCount is > 1 and var output && decoding > TimeSpan.Zero)
        {
            _outputSpeed.Record((output - 1) / decoding.Value.TotalSeconds);
        }
    }
}
