using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.AI;
using WeSeek.Inference.Llama.Engine;
using WeSeek.Inference.Llama.Models;

namespace WeSeek.Benchmarks;

/// <summary>
/// What a LoRA hot swap costs the conversations generating at the time: N streams generate, the adapter is
/// switched once the first has streamed a few tokens, and the table gives how long the scheduler stood still, when the
/// swap was applied, and the gap between tokens in each stream before and across the swap (the re-prefill of what it
/// had under the new adapter).
/// </summary>
internal static class AdapterSwapBenchmark
{
    public static async Task<int> RunAsync(Func<string, string, string> arg)
    {
        var shape = ModelShape.Find(arg("--shape", "0.5b"));
        var streams = int.Parse(arg("--streams", "4"), CultureInfo.InvariantCulture);
        var tokens = int.Parse(arg("--tokens", "48"), CultureInfo.InvariantCulture);
        var rank = int.Parse(arg("--rank", "16"), CultureInfo.InvariantCulture);
        var model = Path.Combine(Path.GetTempPath(), "weseek-bench", $"{shape.Name}-q4_k_m.gguf");
        if (!File.Exists(model))
        {
            Directory.CreateDirectory(Path.GetDirectoryName(model)!);
            ModelSynthesizer.Write(model, shape, ModelQuantization.Q4KM);
        }

        var adapter = Path.Combine(Path.GetTempPath(), $"weseek-bench-lora-{shape.Name}-r{rank}-{Environment.ProcessId}.gguf");
        ModelSynthesizer.WriteLoraAdapter(adapter, shape, rank: rank, alpha: 2f * rank);
        try
        {
            await using var host = LlamaEngineHost.ForModel(new LlamaEngineOptions
            {
                ModelPath = model,
                ContextSize = 4096,
                MaxSequences = streams,
                Threads = int.Parse(arg("--threads", "0"), CultureInfo.InvariantCulture),
            });
            var engine = await host.GetEngineAsync(CancellationToken.None);
            using var client = new LlamaChatClient(host);
            var times = Enumerable.Range(0, streams).Select(_ => new List<long>()).ToArray();
            var swapAt = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var runs = Enumerable.Range(0, streams).Select(i => Task.Run(async () =>
            {
                var options = new ChatOptions { MaxOutputTokens = tokens, Temperature = 0f, Seed = i };
                await foreach (var update in client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, $"第 {i} 个问题：请详细介绍一下你自己，越长越好。")], options))
                {
                    if (update.Contents.Any(c => c is TextContent or TextReasoningContent))
                    {
                        times[i].Add(Stopwatch.GetTimestamp());
                        if (i == 0 && times[0].Count == tokens / 3)
                        {
                            swapAt.TrySetResult();
                        }
                    }
                }
            })).ToList();
            await swapAt.Task;
            var requested = Stopwatch.GetTimestamp();
            var swap = await engine.SetAdaptersAsync([new LoraAdapterOptions { Path = adapter }], CancellationToken.None);
            await Task.WhenAll(runs);

            var table = new StringBuilder()
                .AppendLine(CultureInfo.InvariantCulture, $"{shape.Name} q4_k_m, LoRA rank {rank} on attn_q/attn_v/ffn_down of every block, {streams} streams of {tokens} tokens, CPU ({Environment.ProcessorCount} logical cores, load average {LoadAverage()}).")
                .AppendLine(CultureInfo.InvariantCulture, $"Scheduler stood still {swap.Pause.TotalMilliseconds:F2} ms; the swap was applied {swap.Waited.TotalMilliseconds:F0} ms after it was asked for (loading the adapter, then the next step boundary); {swap.Requeued} generating requests re-prefilled, {swap.CachesDropped} idle caches dropped.")
                .AppendLine()
                .AppendLine("| stream | tokens | median gap before (ms) | gap across the swap (ms) | longest gap (ms) |")
                .AppendLine("|---|---|---|---|---|");
            for (var i = 0; i < streams; i++)
            {
                var t = times[i];
                var gaps = t.Zip(t.Skip(1), (a, b) => (At: b, Ms: Stopwatch.GetElapsedTime(a, b).TotalMilliseconds)).ToList();
                var before = gaps.Where(g => g.At < requested).Select(g => g.Ms).Order().ToList();
                var across = gaps.FirstOrDefault(g => g.At > requested).Ms;
                table.AppendLine(CultureInfo.InvariantCulture, $"| {i} | {t.Count} | {(before.Count > 0 ? before[before.Count / 2] : 0):F0} | {across:F0} | {(gaps.Count > 0 ? gaps.Max(g => g.Ms) : 0):F0} |");
            }

            Console.WriteLine(table);
            return 0;
        }
        finally
        {
            File.Delete(adapter);
        }
    }

    private static string LoadAverage()
    {
        try
        {
            return File.ReadAllText("/proc/loadavg").Split(' ')[0];
        }
        catch (IOException)
        {
            return "unknown";
        }
    }
}
