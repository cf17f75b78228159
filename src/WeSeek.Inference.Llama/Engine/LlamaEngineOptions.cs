using System.ComponentModel.DataAnnotations;

namespace WeSeek.Inference.Llama.Engine;

/// <summary>The embedded llama.cpp engine. Section <c>Model:Llama</c>.</summary>
public sealed class LlamaEngineOptions : IValidatableObject
{
    /// <summary>The GGUF file to run. Default none: <c>weseek serve</c> then uses a model from the data
    /// directory, or synthesises a small one for a first run (answers are random text until a real model
    /// is pulled).</summary>
    public string? ModelPath { get; set; }

    /// <summary>KV cells (tokens of KV cache) shared by every conversation, generating or kept. Default: sized
    /// from <see cref="KvMemoryMiB"/> and the model's KV bytes per token, room for <see cref="MaxSequences"/>
    /// conversations of <see cref="SequenceTokens"/> each and as much again for kept caches. The start-up log
    /// says the plan.</summary>
    [Range(256, 1_000_000_000)]
    public int? ContextSize { get; set; }

    /// <summary>Memory the KV cache may take, in MiB. Default: half of the memory left beside the model (RAM on
    /// the CPU; <see cref="MaxGpuMemoryMiB"/> on a GPU when set, else 8,192), at most 16,384.</summary>
    [Range(1, 10_000_000)]
    public int? KvMemoryMiB { get; set; }

    /// <summary>Tokens one conversation may hold: its context window and its longest answer. Default
    /// <c>Context:MaxTokens</c> + <c>Model:MaxOutputTokens</c> (4,096 + 8,192), so that a generating
    /// conversation never needs more cells than were planned for it.</summary>
    [Range(64, 1_000_000)]
    public int? SequenceTokens { get; set; }

    /// <summary>Most tokens decoded in one step (prefill chunks and one token per generating chat).
    /// Default 512: llama.cpp's default; larger batches prefill faster but hold decoding for longer.</summary>
    [Range(16, 65_536)]
    public int BatchSize { get; set; } = 512;

    /// <summary>Most conversations generating at once; more wait in the queue. Default: as many as the KV
    /// memory holds at <see cref="SequenceTokens"/> each, at most 8 on the CPU (two cores gain nothing past it,
    /// docs/benchmarks.md) and 64 on a GPU.</summary>
    [Range(1, 255)]
    public int? MaxSequences { get; set; }

    /// <summary>Idle conversations whose KV cache is kept on a sequence between turns (by
    /// <c>ChatOptions.ConversationId</c>), so the next turn prefills only the new message. Least recently used are
    /// parked first, also whenever a message or a generating answer needs their cells. Default: the kept half of
    /// the cells at 512 tokens a conversation, within llama.cpp's 256 sequences.</summary>
    [Range(0, 254)]
    public int? MaxKeptConversations { get; set; }

    /// <summary>Idle conversations whose dropped KV cache is parked in memory (saved state, not a sequence)
    /// and restored on their next message. Default 32: about 4 MB each for a short 0.5B chat, 10 MB for 1.5B
    /// (inference-cpu.md §4). Beyond it, or beyond <see cref="MaxParkedInMemoryMiB"/>, the least recently used
    /// move to disk (<see cref="MaxParkedOnDisk"/>), or are forgotten and prefill in full.</summary>
    [Range(0, 100_000)]
    public int MaxParkedInMemory { get; set; } = 32;

    /// <summary>
    /// After an answer, decode it into the conversation's KV cache the way the next prompt will show it (R1 drops
    /// the reasoning from history, so the cache must be cut back to before it and the bare answer decoded), while
    /// the user reads and types, so the next message prefills only itself. Best effort: skipped when the engine
    /// is busy. Default true.
    /// </summary>
    public bool PrefillAnswers { get; set; } = true;

    /// <summary>Milliseconds an answer waits before it is prefilled ahead, so that a message arriving just after
    /// it (the next user in a busy minute) goes first; a user reading the answer takes seconds. Default 50.</summary>
    [Range(0, 60_000)]
    public int PrefillAheadDelayMs { get; set; } = 50;

    /// <summary>Memory the parked KV caches may take, in MiB. Default 1,024.</summary>
    [Range(0, 10_000_000)]
    public int MaxParkedInMemoryMiB { get; set; } = 1024;

    /// <summary>Parked KV caches kept on disk once memory is spent (a file each, read back on the
    /// conversation's next message: milliseconds, against seconds to prefill a long chat on a CPU). 0 turns the
    /// disk tier off. Default 256.</summary>
    [Range(0, 1_000_000)]
    public int MaxParkedOnDisk { get; set; } = 256;

    /// <summary>Disk the parked KV caches may take, in MiB. Default 8,192.</summary>
    [Range(0, 100_000_000)]
    public int MaxParkedOnDiskMiB { get; set; } = 8192;

    /// <summary>Where parked KV caches are written. Default <c>kv-parked</c> in the data directory. Each engine
    /// uses a folder of its own inside, removed when it stops: a cache is only valid for the process that made it.</summary>
    public string? ParkingDirectory { get; set; }

    /// <summary>
    /// How tokens are drawn: <c>managed</c> (top-k, top-p and temperature over the logits row in C#, one scan of
    /// the vocabulary), <c>backend</c> (top-k selected by llama.cpp inside the decode, on the GPU when the output
    /// layer is there; only the k candidates come back and the same top-p, temperature and draw run on them, so
    /// a seed gives the same tokens as managed) or <c>native</c> (llama.cpp's sampler chain on the CPU, which sorts
    /// the whole vocabulary per token). Grammar-constrained requests always use the native chain. Default managed.
    /// </summary>
    [Required]
    [RegularExpression("^(managed|backend|native)$", ErrorMessage = "must be managed, backend or native")]
    public string Sampler { get; set; } = "managed";

    /// <summary>Conversations ready in one step from which their tokens are sampled in parallel across cores
    /// rather than one after another. Default 4; a very large number keeps sampling on one thread.</summary>
    [Range(2, int.MaxValue)]
    public int ParallelSamplingFrom { get; set; } = 4;

    /// <summary>Milliseconds the idle engine waits after the first request arrives, so that requests arriving
    /// together start in one step (with 4 at once on 2 cores, a step of its own for the first one cost about 5 %
    /// of the batch's throughput). 0 starts at once. Default 2.</summary>
    [Range(0, 1000)]
    public int AdmissionWindowMs { get; set; } = 2;

    /// <summary>Requests waiting for a free sequence before new ones are refused as busy. Default 64.</summary>
    [Range(0, 100_000)]
    public int MaxQueue { get; set; } = 64;

    /// <summary>CPU threads; 0 for one per physical core (what llama-server uses). Default 0.</summary>
    [Range(0, 1024)]
    public int Threads { get; set; }

    /// <summary>Layers on the GPU: a number, or <c>auto</c> to fit as many as <see cref="MaxGpuMemoryMiB"/>
    /// allows. Default <c>0</c> (CPU): the CPU backend ships by default; install a CUDA backend to use a GPU.</summary>
    [Required]
    public string GpuLayers { get; set; } = "0";

    /// <summary>GPU memory the model may use with <c>GpuLayers=auto</c>, in MiB; 0 for no limit. Default 0.</summary>
    [Range(0, 10_000_000)]
    public int MaxGpuMemoryMiB { get; set; }

    /// <summary>KV cache type: <c>f16</c> or <c>q8_0</c> (half the memory, slower prefill). Default f16.</summary>
    [Required]
    [RegularExpression("^(f16|q8_0)$", ErrorMessage = "must be f16 or q8_0")]
    public string KvCacheType { get; set; } = "f16";

    /// <summary>
    /// How the KV cells are laid out: <c>unified</c> (one pool every sequence draws from, cells handed out by the
    /// engine's KV manager, long answers may preempt others), <c>per-sequence</c> (llama.cpp's non-unified cache,
    /// as llama-server runs with <c>-np</c>: every sequence id, generating or kept, owns ContextSize divided by
    /// their number, and a decode attends over its own sequence's cells only) or <c>auto</c> (default):
    /// per-sequence on a CPU when each share holds a whole window and the longest answer (<see cref="SequenceTokens"/>),
    /// where a decode over the unified pool pays for every other conversation's cells; unified on a GPU, and on a
    /// CPU whose shares would be smaller (docs/benchmarks.md, issue 21).
    /// </summary>
    [Required]
    [RegularExpression("^(auto|unified|per-sequence)$", ErrorMessage = "must be auto, unified or per-sequence")]
    public string KvLayout { get; set; } = "auto";

    /// <summary>A llama.cpp shared library to load instead of the bundled CPU one (a CUDA build). Default none.</summary>
    public string? NativeLibraryPath { get; set; }

    /// <summary>
    /// LoRA adapters (llama.cpp adapter GGUFs, docs/adaptation.md) applied to the model at start, in order, each with
    /// a scale (1: as trained). Default none. Adapters added with <c>weseek model adapter add</c> are kept in the data
    /// directory instead and applied after these; a running <c>serve</c> picks those up without a restart.
    /// </summary>
    public List<LoraAdapterOptions> Adapters { get; } = [];

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        for (var i = 0; i < Adapters.Count; i++)
        {
            if (LoraAdapterOptions.Problem(Adapters[i]) is { } problem)
            {
                yield return new ValidationResult(problem, [$"{nameof(Adapters)}:{i}:{(problem.StartsWith("scale", StringComparison.Ordinal) ? nameof(LoraAdapterOptions.Scale) : nameof(LoraAdapterOptions.Path))}"]);
            }
        }

        if (MaxSequences + MaxKeptConversations > 256)
        {
            yield return new ValidationResult("MaxSequences + MaxKeptConversations must be at most 256 (llama.cpp's sequence limit)", [nameof(MaxKeptConversations)]);
        }

        if (GpuLayers != "auto" && !(int.TryParse(GpuLayers, out var layers) && layers >= 0))
        {
            yield return new ValidationResult("must be a number of layers (0 for CPU only) or 'auto'", [nameof(GpuLayers)]);
        }

        if (!string.IsNullOrEmpty(ModelPath) && !File.Exists(ModelPath))
        {
            yield return new ValidationResult($"no model file at '{ModelPath}'; pull one with `weseek model pull deepseek-r1:1.5b` or make one with `weseek model synth`", [nameof(ModelPath)]);
        }

        if (!string.IsNullOrEmpty(NativeLibraryPath) && !File.Exists(NativeLibraryPath))
        {
            yield return new ValidationResult($"no native library at '{NativeLibraryPath}'", [nameof(NativeLibraryPath)]);
        }
    }
}

/// <summary>One LoRA adapter: <c>Model:Llama:Adapters:{n}:Path</c> and <c>:Scale</c>.</summary>
public sealed class LoraAdapterOptions
{
    /// <summary>The adapter GGUF (<c>general.type = adapter</c>, <c>adapter.type = lora</c>). Required.</summary>
    public string Path { get; set; } = "";

    /// <summary>How strongly it applies: 1 as trained, 0.5 half, 0 not at all. Default 1.</summary>
    public float Scale { get; set; } = 1f;

    /// <summary>What is wrong with <paramref name="adapter"/> on its own (not yet against a model), or null.</summary>
    public static string? Problem(LoraAdapterOptions adapter)
    {
        ArgumentNullException.ThrowIfNull(adapter);
        if (!float.IsFinite(adapter.Scale) || adapter.Scale is < -10 or > 10)
        {
            return "scale must be a number between -10 and 10 (1 applies the adapter as trained)";
        }

        if (string.IsNullOrWhiteSpace(adapter.Path) || !File.Exists(adapter.Path))
        {
            return $"no adapter file at '{adapter.Path}'";
        }

        try
        {
            Models.LoraAdapterFile.Read(adapter.Path);
            return null;
        }
        catch (InvalidDataException ex)
        {
            return ex.Message;
        }
    }
}
