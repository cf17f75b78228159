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

// Engine benchmark: single-chat prefill and decode through LlamaChatClient (the product path: template,
// scheduler, sampling, detokenising, streaming), side by side with a raw llama_decode loop on the same model
// in the same run. A load tool that prints a table rather than BenchmarkDotNet: one generation of a
// multi-gigabyte model takes seconds, and the question is a ratio of two throughputs measured together.
//
//   dotnet run -c Release --project bench/WeSeek.Benchmarks -- [--shapes 0.5b,r1-1.5b] [--prompt 256] [--tokens 64] [--runs 3] [--out docs/benchmarks.md]
//   … -- --suite batching [--shape 0.5b] [--counts 1,4,8,16,32] [--tokens 24]   (continuous batching vs a raw batch loop)
//   … -- --suite kv [--shape 0.5b] [--turns 2,5,10] [--answer-tokens 128] [--question "Q{0}: what do I pack?"] (kept KV cache vs re-prefill)
//   … -- --suite interleaved [--shape 0.5b] [--conversations 32] [--kept 8] [--rounds 3] (random turns under a small KV budget)
//   … -- --suite gpu-memory                                                       (what the NVML reader behind /metrics sees)
//   … -- --suite serve-load --servers llama-server=http://127.0.0.1:8081,weseek=http://127.0.0.1:8082 [--load interleaved|concurrent]
//          [--users 16] [--turns 6] [--tokens 32] [--ids on|off] [--out file]   (OpenAI-compatible servers side by side, bench/serve-side-by-side.sh)
//   … -- --suite model-serve --model file.gguf -- --urls http://127.0.0.1:8082 [--Model:Llama:…]   (weseek model serve, from this binary)
//   … -- --suite webchat-load [--url http://127.0.0.1:5000] [--users 20] [--messages 10]   (web chat users against a running weseek serve)
//   … -- --suite callbacks [--seconds 5] [--concurrency 32] [--rate 2000] [--rounds 2] [--turns on|off] (公众号 callbacks vs bare Kestrel)
//   … -- --suite callbacks-storage [--seconds 5] [--rounds 2] [--rate 1000] [--turns on|off] (公众号 callbacks: SQLite vs PostgreSQL ×1, ×2)
//   … -- --suite moderation [--job short|default]       (BenchmarkDotNet: a 2,000-character message against 10,000 words)
//   … -- --suite kb-reopen [--documents 200] [--passages 10] [--rounds 50]   (a search after another instance added a document)
//   … -- --suite adapter-swap [--shape 0.5b] [--streams 4] [--tokens 48] [--rank 16]   (a LoRA hot swap under generation)
var suite = Arg("--suite", "engine");
if (suite == "gpu-memory")
{
    // The product's NVML reader, as /metrics uses it: what a GPU machine reports, or that none is found.
    var gpus = new WeSeek.Operations.GpuMemoryMetrics(NullLogger<WeSeek.Operations.GpuMemoryMetrics>.Instance);
    await gpus.StartAsync(CancellationToken.None);
    Console.WriteLine(gpus.Available ? "| gpu | name | used MiB | total MiB |\n|---|---|---|---|" : "NVML not available: no GPU series would be exported.");
    foreach (var gpu in gpus.Read())
    {
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {gpu.Index} | {gpu.Name} | {gpu.UsedBytes / 1048576} | {gpu.TotalBytes / 1048576} |"));
    }

    await gpus.StopAsync(CancellationToken.None);
    return 0;
}

if (suite == "serve-load")
{
    return await WeSeek.Benchmarks.ServeLoad.RunAsync(Arg);
}

if (suite == "webchat-load")
{
    return await WeSeek.Benchmarks.WebChatLoad.RunAsync(Arg);
}

if (suite == "model-serve")
{
    // `weseek model serve` from this binary (the device gets one published program): the same server, arguments
    // after `--` passed through (--urls, --Model:Llama:… settings).
    var passed = args.SkipWhile(a => a != "--").Skip(1).Append("--Model:Llama:ModelPath=" + Arg("--model", "")).ToArray();
    await using var server = WeSeek.Host.Commands.ModelServeCommand.Build(passed);
    await server.RunAsync();
    return 0;
}

if (suite == "kb-reopen")
{
    return WeSeek.Benchmarks.KnowledgeReopenBenchmark.Run(Arg);
}

if (suite == "callbacks-storage")
{
    return await WeSeek.Benchmarks.StorageCallbackBenchmarks.RunAsync(Arg);
}

if (suite == "callbacks")
{
    return await WeSeek.Benchmarks.CallbackBenchmarks.RunAsync(Arg);
}

if (suite == "moderation")
{
    return WeSeek.Benchmarks.ModerationBenchmarks.Run(Arg);
}

if (suite == "adapter-swap")
{
    return await WeSeek.Benchmarks.AdapterSwapBenchmark.RunAsync(Arg);
}

if (suite != "engine")
{
    return await WeSeek.Benchmarks.SchedulerBenchmarks.RunAsync(suite, Arg);
}

var shapes = Arg("--shapes", "0.5b,r1-1.5b").Split(',', StringSplitOptions.RemoveEmptyEntries);
var promptTokens = int.Parse(Arg("--prompt", "256"), CultureInfo.InvariantCulture);
var decodeTokens = int.Parse(Arg("--tokens", "64"), CultureInfo.InvariantCulture);
var runs = int.Parse(Arg("--runs", "3"), CultureInfo.InvariantCulture);
var output = Arg("--out", "");
var cache = Path.Combine(Path.GetTempPath(), "weseek-bench");
Directory.CreateDirectory(cache);

var rows = new List<string>();
foreach (var shapeName in shapes)
{
    var shape = ModelShape.Find(shapeName);
    var path = Path.Combine(cache, $"{shape.Name}-q4_k_m.gguf");
    if (!File.Exists(path))
    {
        Console.Error.WriteLine($"Synthesising {shape.Name} q4_k_m into {path} …");
        ModelSynthesizer.Write(path, shape, ModelQuantization.Q4KM);
    }

    var options = new LlamaEngineOptions { ModelPath = path, ContextSize = 2048, BatchSize = 512, MaxSequences = 1 };
    var raw = new List<(double Prefill, double Decode)>();
    var product = new List<(double Prefill, double Decode)>();
    for (var run = 0; run < runs + 1; run++)
    {
        // Run 0 of each is a warm-up (page faults of the mmapped weights); it is not counted.
        var r = await RawAsync(path, promptTokens, decodeTokens);
        var p = await ProductAsync(options, promptTokens, decodeTokens);
        if (run > 0)
        {
            raw.Add(r);
            product.Add(p);
        }
    }

    double Median(IEnumerable<double> xs) => xs.OrderBy(x => x).ElementAt(runs / 2);
    var rawPrefill = Median(raw.Select(x => x.Prefill));
    var rawDecode = Median(raw.Select(x => x.Decode));
    var prodPrefill = Median(product.Select(x => x.Prefill));
    var prodDecode = Median(product.Select(x => x.Decode));
    rows.Add(string.Create(CultureInfo.InvariantCulture,
        $"| {shape.Name} q4_k_m ({new FileInfo(path).Length / 1_000_000} MB) | {rawPrefill:F1} | {prodPrefill:F1} | {prodPrefill / rawPrefill:P0} | {rawDecode:F1} | {prodDecode:F1} | {prodDecode / rawDecode:P0} |"));
}

var table = new StringBuilder()
    .AppendLine(CultureInfo.InvariantCulture, $"Prompt {promptTokens} tokens, {decodeTokens} generated, median of {runs} runs after a warm-up; tok/s.")
    .AppendLine()
    .AppendLine("| model | raw prefill | LlamaChatClient prefill | ratio | raw decode | LlamaChatClient decode | ratio |")
    .AppendLine("|---|---|---|---|---|---|---|");
rows.ForEach(r => table.AppendLine(r));
Console.WriteLine(table);
if (output.Length > 0)
{
    await File.WriteAllTextAsync(output, table.ToString());
}

return 0;

string Arg(string name, string fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
}

// The floor: tokens fed straight to llama_decode, one sequence, the same sampler settings.
static async Task<(double Prefill, double Decode)> RawAsync(string path, int promptTokens, int decodeTokens)
{
    var threads = CpuTopology.PhysicalCores(); // As the engine runs (one thread per physical core).
    var parameters = new ModelParams(path) { ContextSize = 2048, BatchSize = 512, GpuLayerCount = 0, Threads = threads, BatchThreads = threads };
    using var weights = await LLamaWeights.LoadFromFileAsync(parameters);
    using var context = weights.CreateContext(parameters, NullLogger.Instance);
    using var sampler = new DefaultSamplingPipeline { Temperature = 0.6f, TopP = 0.95f, TopK = 40, Seed = 1 };
    var prompt = Enumerable.Range(0, promptTokens).Select(i => (LLamaToken)(1 + i % 200)).ToArray();
    var batch = new LLamaBatch();
    var started = Stopwatch.GetTimestamp();
    for (var offset = 0; offset < prompt.Length; offset += 512)
    {
        batch.Clear();
        var n = Math.Min(512, prompt.Length - offset);
        for (var i = 0; i < n; i++)
        {
            batch.Add(prompt[offset + i], offset + i, LLamaSeqId.Zero, offset + i == prompt.Length - 1);
        }

        await context.DecodeAsync(batch);
    }

    var token = sampler.Sample(context.NativeHandle, batch.TokenCount - 1);
    var prefill = Stopwatch.GetElapsedTime(started);
    var position = prompt.Length;
    var decodeStarted = Stopwatch.GetTimestamp();
    for (var i = 1; i < decodeTokens; i++)
    {
        batch.Clear();
        batch.Add(token, position++, LLamaSeqId.Zero, true);
        await context.DecodeAsync(batch);
        token = sampler.Sample(context.NativeHandle, 0);
    }

    var decode = Stopwatch.GetElapsedTime(decodeStarted);
    return (promptTokens / prefill.TotalSeconds, (decodeTokens - 1) / decode.TotalSeconds);
}

// The product: the same tokens through LlamaChatClient's streaming path.
static async Task<(double Prefill, double Decode)> ProductAsync(LlamaEngineOptions options, int promptTokens, int decodeTokens)
{
    var host = LlamaEngineHost.ForModel(options);
    await using (host)
    {
        await host.StartAsync(CancellationToken.None);
        using var client = new LlamaChatClient(host);
        var engine = await host.GetEngineAsync(CancellationToken.None);
        // A user message whose templated prompt is about promptTokens long.
        var text = new StringBuilder();
        while (R1PromptBuilder.Tokenize(engine.Context, engine.Prompts.Render([new ChatMessage(ChatRole.User, text.ToString())])).Length < promptTokens)
        {
            text.Append("abc ");
        }

        // Prefill: a generation of one token (prompt decode plus the first sample), timed whole.
        // Decode: a full generation, less that prefill. Timing the first text piece instead would count
        // the decoder holding back partial UTF-8 of random tokens as prefill.
        var message = new ChatMessage(ChatRole.User, text.ToString());
        var prefill = await TimeAsync(client, message, 1);
        var (total, generated) = await TimeWithCountAsync(client, message, decodeTokens);
        return (promptTokens / prefill.TotalSeconds, Math.Max(1, generated - 1) / Math.Max(1e-9, (total - prefill).TotalSeconds));
    }
}

static async Task<TimeSpan> TimeAsync(LlamaChatClient client, ChatMessage message, int tokens) => (await TimeWithCountAsync(client, message, tokens)).Elapsed;

static async Task<(TimeSpan Elapsed, int Generated)> TimeWithCountAsync(LlamaChatClient client, ChatMessage message, int tokens)
{
    var started = Stopwatch.GetTimestamp();
    var response = await client.GetResponseAsync([message], new ChatOptions { MaxOutputTokens = tokens, Temperature = 0.6f, TopP = 0.95f, TopK = 40, Seed = 1 });
    return (Stopwatch.GetElapsedTime(started), (int)(response.Usage?.OutputTokenCount ?? tokens));
}
