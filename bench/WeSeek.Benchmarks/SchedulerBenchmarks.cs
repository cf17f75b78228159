using System.Diagnostics;
using System.Globalization;
using System.Text;
using LLama;
using LLama.Common;
using LLama.Native;
using LLama.Sampling;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging.Abstractions;
using WeSeek.Inference.Llama.Engine;
using WeSeek.Inference.Llama.Models;

namespace WeSeek.Benchmarks;

/// <summary>
/// Scheduler benchmarks (issue 4): aggregate decode throughput of N concurrent conversations through the
/// product scheduler next to a raw multi-sequence llama_decode loop with the same real sampling; and time to
/// first token with a conversation's kept KV cache next to re-prefilling its history.
/// </summary>
internal static class SchedulerBenchmarks
{
    // A llama.cpp build of our own (a CUDA one on a GPU machine) and the layers to offload; none: the CPU backend.
    private static string? _nativeLibrary;
    private static int _gpuLayers;
    private static string _sampler = "managed";

    public static async Task<int> RunAsync(string suite, Func<string, string, string> arg)
    {
        if (arg("--native-lib", "") is { Length: > 0 } native)
        {
            // Before any native call, the model synthesis included.
            _nativeLibrary = Path.GetFullPath(native);
            NativeLibraryConfig.LLama.WithLibrary(_nativeLibrary);
        }

        _gpuLayers = int.Parse(arg("--gpu-layers", "0"), CultureInfo.InvariantCulture);
        // The product's Model:Llama:Sampler for its columns: managed (default) or backend (drawn in the decode).
        _sampler = arg("--sampler", "managed");
        var shape = ModelShape.Find(arg("--shape", "0.5b"));
        var path = Path.Combine(Path.GetTempPath(), "weseek-bench", $"{shape.Name}-q4_k_m.gguf");
        if (!File.Exists(path))
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            ModelSynthesizer.Write(path, shape, ModelQuantization.Q4KM);
        }

        if (suite == "synth")
        {
            // Only make the model (on the CPU backend), for a later run with another native library.
            Console.WriteLine(path);
            return 0;
        }

        var table = suite switch
        {
            "batching" => await BatchingAsync(path, shape, arg("--counts", "1,4,8,16,32").Split(',').Select(int.Parse).ToArray(), int.Parse(arg("--tokens", "24"), CultureInfo.InvariantCulture)),
            "kv" => await KvReuseAsync(path, shape, arg("--turns", "2,5,10").Split(',').Select(int.Parse).ToArray(), int.Parse(arg("--answer-tokens", "128"), CultureInfo.InvariantCulture), arg("--question", "Q{0}: what do I pack?")),
            "interleaved" => await InterleavedAsync(path, shape, int.Parse(arg("--conversations", "32"), CultureInfo.InvariantCulture), int.Parse(arg("--kept", "8"), CultureInfo.InvariantCulture), int.Parse(arg("--rounds", "3"), CultureInfo.InvariantCulture)),
            _ => throw new ArgumentException($"Unknown suite '{suite}': engine, batching, kv, interleaved or callbacks."),
        };
        Console.WriteLine(table);
        if (arg("--out", "") is { Length: > 0 } output)
        {
            await File.WriteAllTextAsync(output, table);
        }

        return 0;
    }

    private static async Task<string> BatchingAsync(string path, ModelShape shape, int[] counts, int tokens)
    {
        var table = new StringBuilder()
            .AppendLine(CultureInfo.InvariantCulture, $"{shape.Name} q4_k_m, 32-token prompts, {tokens} generated per conversation, temperature 0.6, top-p 0.95, product sampler {_sampler}; aggregate generated tok/s (wall time including prefill).")
            .AppendLine()
            .AppendLine("| conversations | raw batch loop | product scheduler | product / raw | product vs 1 conversation | product, sampling on one thread | product, decode only (after the prompts) |")
            .AppendLine("|---|---|---|---|---|---|---|");
        double? single = null;
        var phases = new StringBuilder()
            .AppendLine()
            .AppendLine("Where a product step goes (parallel sampling; ms per scheduler step, from `weseek.llama.step.duration`):")
            .AppendLine()
            .AppendLine("| conversations | steps | admit | schedule | decode | wait (device) | sample | retire |")
            .AppendLine("|---|---|---|---|---|---|---|---|");
        foreach (var n in counts)
        {
            await RawBatchAsync(path, Math.Min(n, 2), tokens); // Warm-up: page in the weights.
            if (single is null)
            {
                await ProductBatchAsync(path, Math.Min(n, 2), tokens, parallelSamplingFrom: 4); // and JIT the product path.
            }

            var raw = await RawBatchAsync(path, n, tokens);
            using var steps = new StepPhases();
            var (product, decodeOnly) = await ProductBatchAsync(path, n, tokens, parallelSamplingFrom: 4);
            phases.AppendLine(steps.Row(n));
            steps.Dispose();
            var (serial, _) = await ProductBatchAsync(path, n, tokens, parallelSamplingFrom: int.MaxValue);
            single ??= product;
            table.AppendLine(CultureInfo.InvariantCulture, $"| {n} | {raw:F1} | {product:F1} | {product / raw:P0} | {product / single:F2}× | {serial:F1} | {decodeOnly:F1} |");
            Console.Error.WriteLine(table.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1]);
        }

        return table.Append(phases).ToString();
    }

    /// <summary>Sums the scheduler's phase timings while it is alive.</summary>
    private sealed class StepPhases : IDisposable
    {
        private readonly System.Diagnostics.Metrics.MeterListener _listener = new();
        private readonly Dictionary<string, (double Seconds, long Count)> _sums = [];

        public StepPhases()
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Name == "weseek.llama.step.duration")
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<double>((_, value, tags, _) =>
            {
                foreach (var tag in tags)
                {
                    if (tag.Key == "phase" && tag.Value is string phase)
                    {
                        lock (_sums)
                        {
                            var (seconds, count) = _sums.GetValueOrDefault(phase);
                            _sums[phase] = (seconds + value, count + 1);
                        }
                    }
                }
            });
            _listener.Start();
        }

        public string Row(int n)
        {
            lock (_sums)
            {
                var steps = _sums.GetValueOrDefault("decode").Count;
                string Ms(string phase) => steps == 0 ? "-" : (_sums.GetValueOrDefault(phase).Seconds * 1000 / steps).ToString("F2", CultureInfo.InvariantCulture);
                return string.Create(CultureInfo.InvariantCulture, $"| {n} | {steps} | {Ms("admit")} | {Ms("schedule")} | {Ms("decode")} | {Ms("wait")} | {Ms("sample")} | {Ms("retire")} |");
            }
        }

        public void Dispose() => _listener.Dispose();
    }

    private static async Task<double> RawBatchAsync(string path, int n, int tokens)
    {
        var threads = CpuTopology.PhysicalCores(); // As the engine runs.
        var parameters = new ModelParams(path) { ContextSize = (uint)(n * (48 + tokens) + 256), BatchSize = 512, SeqMax = (uint)n, KVUnified = true, GpuLayerCount = _gpuLayers, Threads = threads, BatchThreads = threads };
        using var weights = await LLamaWeights.LoadFromFileAsync(parameters);
        using var context = weights.CreateContext(parameters, NullLogger.Instance);
        var samplers = Enumerable.Range(0, n).Select(i => new DefaultSamplingPipeline { Temperature = 0.6f, TopP = 0.95f, TopK = 40, Seed = (uint)i }).ToArray();
        var batch = new LLamaBatch();
        var positions = new int[n];
        var logitIndex = new int[n];
        var started = Stopwatch.GetTimestamp();
        var next = new LLamaToken[n];
        // Prefill 16 prompts (512 tokens, the batch size) per decode, sampling each sequence right after the
        // decode that produced its logits (the next decode discards them).
        for (var group = 0; group < n; group += 16)
        {
            batch.Clear();
            var members = Enumerable.Range(group, Math.Min(16, n - group)).ToArray();
            foreach (var s in members)
            {
                for (var i = 0; i < 32; i++)
                {
                    logitIndex[s] = batch.Add((LLamaToken)(1 + (i * 7 + s) % 200), positions[s]++, (LLamaSeqId)s, i == 31);
                }
            }

            await context.DecodeAsync(batch);
            foreach (var s in members)
            {
                next[s] = samplers[s].Sample(context.NativeHandle, logitIndex[s]);
            }
        }

        for (var step = 1; step < tokens; step++)
        {
            batch.Clear();
            for (var s = 0; s < n; s++)
            {
                logitIndex[s] = batch.Add(next[s], positions[s]++, (LLamaSeqId)s, true);
            }

            await context.DecodeAsync(batch);
            for (var s = 0; s < n; s++)
            {
                next[s] = samplers[s].Sample(context.NativeHandle, logitIndex[s]);
            }
        }

        var elapsed = Stopwatch.GetElapsedTime(started);
        foreach (var sampler in samplers)
        {
            sampler.Dispose();
        }

        return n * tokens / elapsed.TotalSeconds;
    }

    /// <summary>Aggregate generated tok/s over the wall time (prefill included), and over the steps after every
    /// conversation's prompt (decode only, as llama-batched-bench's S_TG).</summary>
    private static async Task<(double Overall, double DecodeOnly)> ProductBatchAsync(string path, int n, int tokens, int parallelSamplingFrom)
    {
        var options = new LlamaEngineOptions
        {
            ModelPath = path,
            ContextSize = n * (48 + tokens) + 256,
            MaxSequences = n,
            MaxKeptConversations = 0,
            ParallelSamplingFrom = parallelSamplingFrom,
            Sampler = _sampler,
            GpuLayers = _gpuLayers.ToString(CultureInfo.InvariantCulture),
            NativeLibraryPath = _nativeLibrary,
        };
        var host = LlamaEngineHost.ForModel(options);
        await using (host)
        {
            await host.StartAsync(CancellationToken.None);
            using var client = new LlamaChatClient(host);
            // Prompts of 32 tokens, as in the raw loop: the user text is trimmed until the templated prompt fits.
            var engine = await host.GetEngineAsync(CancellationToken.None);
            string Question(int i)
            {
                var text = $"conversation {i:D2} asks about the weather in the mountains today";
                while (R1PromptBuilder.Tokenize(engine.Context, engine.Prompts.Render([new Microsoft.Extensions.AI.ChatMessage(ChatRole.User, text)])).Length > 32)
                {
                    text = text[..^1];
                }

                return text;
            }

            var questions = Enumerable.Range(0, n).Select(Question).ToList();
            // Every sampled token's time, from the engine's own counter: the decode-only rate is counted over the
            // tokens sampled after the last conversation got its first one, as llama-batched-bench's S_TG counts
            // only the steps after its prompts.
            var sampledAt = new long[n * (tokens + 1)];
            var sampled = 0;
            using var listener = new System.Diagnostics.Metrics.MeterListener();
            listener.InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Name == "weseek.llama.generated_tokens")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            };
            listener.SetMeasurementEventCallback<long>((_, _, _, _) =>
            {
                var at = Interlocked.Increment(ref sampled) - 1;
                if (at < sampledAt.Length)
                {
                    sampledAt[at] = Stopwatch.GetTimestamp();
                }
            });
            listener.Start();
            var firstAt = new long[n];
            var started = Stopwatch.GetTimestamp();
            var generated = await Task.WhenAll(Enumerable.Range(0, n).Select(async i =>
            {
                var count = 0L;
                await foreach (var update in client.GetStreamingResponseAsync(
                    [new Microsoft.Extensions.AI.ChatMessage(ChatRole.User, questions[i])],
                    new ChatOptions { MaxOutputTokens = tokens, Temperature = 0.6f, TopP = 0.95f, TopK = 40, Seed = i }))
                {
                    if (firstAt[i] == 0)
                    {
                        firstAt[i] = Stopwatch.GetTimestamp();
                    }

                    count += update.Contents.OfType<UsageContent>().Sum(u => u.Details.OutputTokenCount ?? 0);
                }

                return count;
            }));
            var ended = Stopwatch.GetTimestamp();
            listener.Dispose();
            var allStarted = firstAt.Max();
            var times = sampledAt.Take(Math.Min(sampled, sampledAt.Length)).ToArray();
            var afterPrompts = times.Count(t => t > allStarted);
            var lastSampled = times.Length == 0 ? ended : times.Max();
            var decodeOnly = lastSampled > allStarted ? afterPrompts / Stopwatch.GetElapsedTime(allStarted, lastSampled).TotalSeconds : double.NaN;
            return (generated.Sum() / Stopwatch.GetElapsedTime(started, ended).TotalSeconds, decodeOnly);
        }
    }

    private static async Task<string> KvReuseAsync(string path, ModelShape shape, int[] turns, int answerTokens, string question)
    {
        var ahead = await KvTurnsAsync(path, turns, answerTokens, question, prefillAnswers: true, measureFresh: true);
        var atNext = await KvTurnsAsync(path, turns, answerTokens, question, prefillAnswers: false, measureFresh: false);
        var table = new StringBuilder()
            .AppendLine(CultureInfo.InvariantCulture, $"{shape.Name} q4_k_m; one conversation, each turn a question (\"{string.Format(CultureInfo.InvariantCulture, question, 1)}\", {ahead[0].Tokens} tokens of the synthetic byte-level vocabulary) and an answer of {answerTokens} tokens the model generates (greedy); time to first token (ms).")
            .AppendLine()
            .AppendLine("| turn | prompt tokens | kept cache, answer prefilled ahead | kept cache, answer prefilled with the message | re-prefill | ahead / re-prefill | with the message / re-prefill |")
            .AppendLine("|---|---|---|---|---|---|---|");
        foreach (var turn in turns)
        {
            var a = ahead[turn];
            var b = atNext[turn];
            table.AppendLine(CultureInfo.InvariantCulture,
                $"| {turn} | {a.Tokens} | {a.Kept:F0} | {b.Kept:F0} | {a.Fresh:F0} | 1/{a.Fresh / a.Kept:F1} | 1/{a.Fresh / b.Kept:F1} |");
        }

        return table.ToString();
    }

    /// <summary>One conversation's turns as a user has them: question, generated answer, a pause while the user reads.</summary>
    /// <remarks>Entry 0 holds the question's own token count.</remarks>
    private static async Task<Dictionary<int, (int Tokens, double Kept, double Fresh)>> KvTurnsAsync(string path, int[] turns, int answerTokens, string question, bool prefillAnswers, bool measureFresh)
    {
        var options = new LlamaEngineOptions
        {
            ModelPath = path,
            ContextSize = 8192,
            MaxSequences = 2,
            MaxKeptConversations = 4,
            PrefillAnswers = prefillAnswers,
            GpuLayers = _gpuLayers.ToString(CultureInfo.InvariantCulture),
            NativeLibraryPath = _nativeLibrary,
        };
        var results = new Dictionary<int, (int, double, double)>();
        var host = LlamaEngineHost.ForModel(options);
        await using (host)
        {
            await host.StartAsync(CancellationToken.None);
            using var client = new LlamaChatClient(host);
            var engine = await host.GetEngineAsync(CancellationToken.None);
            var history = new List<Microsoft.Extensions.AI.ChatMessage>();
            results[0] = (engine.Context.Tokenize(string.Format(CultureInfo.InvariantCulture, question, 1), addBos: false, special: false).Length, 0, 0);
            for (var turn = 1; turn <= turns.Max(); turn++)
            {
                history.Add(new(ChatRole.User, string.Format(CultureInfo.InvariantCulture, question, turn)));
                var fresh = measureFresh && turns.Contains(turn) ? (await TtftAsync(client, history, null)).TotalMilliseconds : double.NaN;
                // Measured as the re-prefill is: a one-token generation (prompt decode and the first sample), here
                // with the conversation's cache. The answer then comes from the same cache.
                var keptStarted = Stopwatch.GetTimestamp();
                var first = await client.GetResponseAsync(history, new ChatOptions { MaxOutputTokens = 1, ConversationId = "kv-bench", Seed = 1 });
                var kept = Stopwatch.GetElapsedTime(keptStarted).TotalMilliseconds;
                Console.Error.WriteLine($"turn {turn}: prompt {first.Usage?.InputTokenCount}, cached {first.Usage?.CachedInputTokenCount}, {kept:F0} ms (ahead {prefillAnswers})");
                var answer = (await client.GetResponseAsync(history, new ChatOptions { ConversationId = "kv-bench", MaxOutputTokens = answerTokens, Temperature = 0f, Seed = 1 })).Text;

                if (turns.Contains(turn))
                {
                    results[turn] = (R1PromptBuilder.Tokenize(engine.Context, engine.Prompts.Render(history)).Length, kept, fresh);
                }

                history.Add(new(ChatRole.Assistant, answer));
                while (!engine.IsIdle)
                {
                    await Task.Delay(10); // The user reads the answer.
                }
            }
        }

        return results;
    }

    /// <summary>
    /// Many users taking turns in random order with room for only a few KV caches: how often a turn finds its
    /// conversation's cache (kept on the sequence, or parked in RAM or on disk and restored) and what that does to time
    /// to first token, against keeping nothing.
    /// </summary>
    private static async Task<string> InterleavedAsync(string path, ModelShape shape, int conversations, int kept, int rounds)
    {
        var table = new StringBuilder()
            .AppendLine(CultureInfo.InvariantCulture, $"{shape.Name} q4_k_m; {conversations} conversations × {rounds} turns in one random order (seed 7), one turn at a time; each turn a ~20-token question after a fixed ~30-token answer; KV room for {kept} conversations on sequences. Hit: the turn's prompt found cached tokens of its own conversation. TTFT over turns 2+.")
            .AppendLine()
            .AppendLine("| setting | cache hits (turns 2+) | prompt tokens cached | TTFT p50 ms | TTFT p99 ms |")
            .AppendLine("|---|---|---|---|---|");
        (string Name, int Kept, int InMemory, int OnDisk)[] settings =
        [
            ($"keep {kept}, no parking", kept, 0, 0),
            ($"keep {kept}, park {conversations} in RAM", kept, conversations, 0),
            ($"keep {kept}, park {conversations} on disk", kept, 0, conversations),
            ("keep nothing (re-prefill every turn)", 0, 0, 0),
        ];
        foreach (var (name, keep, inMemory, onDisk) in settings)
        {
            var options = new LlamaEngineOptions
            {
                ModelPath = path,
                ContextSize = Math.Max(keep, 1) * 512 + 512,
                MaxSequences = 1,
                MaxKeptConversations = keep,
                MaxParkedInMemory = inMemory,
                MaxParkedOnDisk = onDisk,
                PrefillAnswers = false, // The answers here are fixed text, not what the model said.
                GpuLayers = _gpuLayers.ToString(CultureInfo.InvariantCulture),
                NativeLibraryPath = _nativeLibrary,
            };
            var host = LlamaEngineHost.ForModel(options);
            await using (host)
            {
                await host.StartAsync(CancellationToken.None);
                using var client = new LlamaChatClient(host);
                var histories = Enumerable.Range(0, conversations).Select(_ => new List<Microsoft.Extensions.AI.ChatMessage>()).ToList();
                var order = Enumerable.Range(0, rounds).SelectMany(_ => Enumerable.Range(0, conversations)).ToArray();
                new Random(7).Shuffle(order);
                long cached = 0, prefilled = 0;
                using var listener = new System.Diagnostics.Metrics.MeterListener();
                listener.InstrumentPublished = (instrument, l) =>
                {
                    if (instrument.Name == "weseek.llama.prompt_tokens")
                    {
                        l.EnableMeasurementEvents(instrument);
                    }
                };
                listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
                {
                    foreach (var tag in tags)
                    {
                        if (tag is { Key: "source", Value: "cached" })
                        {
                            cached += value;
                        }
                        else if (tag is { Key: "source", Value: "prefilled" })
                        {
                            prefilled += value;
                        }
                    }
                });
                listener.Start();
                var ttft = new List<double>();
                int hits = 0, later = 0;
                foreach (var c in order)
                {
                    var history = histories[c];
                    history.Add(new(ChatRole.User, $"User {c:D2}, question {history.Count / 2 + 1}: what should I pack for the mountains?"));
                    var before = cached;
                    var time = await TtftAsync(client, history, $"user-{c:D2}");
                    if (history.Count > 1)
                    {
                        later++;
                        hits += cached > before ? 1 : 0;
                        ttft.Add(time.TotalMilliseconds);
                    }

                    history.Add(new(ChatRole.Assistant, "Pack layers, water, a map and a light rain jacket for the mountains."));
                }

                ttft.Sort();
                table.AppendLine(CultureInfo.InvariantCulture, $"| {name} | {hits}/{later} ({100.0 * hits / later:F0} %) | {100.0 * cached / (cached + prefilled):F0} % | {ttft[ttft.Count / 2]:F0} | {ttft[Math.Min(ttft.Count - 1, (int)Math.Ceiling(0.99 * ttft.Count) - 1)]:F0} |");
                Console.Error.WriteLine(table.ToString().Split('\n')[^2]);
            }
        }

        return table.ToString();
    }

    private static async Task<TimeSpan> TtftAsync(LlamaChatClient client, List<Microsoft.Extensions.AI.ChatMessage> history, string? conversation)
    {
        var started = Stopwatch.GetTimestamp();
        await client.GetResponseAsync(history, new ChatOptions { MaxOutputTokens = 1, ConversationId = conversation, Seed = 1 });
        return Stopwatch.GetElapsedTime(started);
    }
}
