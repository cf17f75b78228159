using System.Globalization;

namespace WeSeek.Inference.Llama.Engine;

/// <summary>
/// How the embedded engine's KV cells are shared, decided once at load: how many conversations generate at once,
/// how many cells they share, and how many idle conversations keep their cache on a sequence. Each setting left
/// unset in <see cref="LlamaEngineOptions"/> is derived from the KV memory budget and the model's KV bytes per
/// token, so that every generating conversation can hold its whole window and longest answer
/// (<see cref="SequenceTokens"/>) and kept caches have as much again; beyond that, idle caches are parked.
/// </summary>
internal sealed record KvPlan(int Cells, int Sequences, int Kept, int SequenceTokens, long BytesPerToken, long BudgetBytes, bool Derived, bool PerSequence = false)
{
    /// <summary>Context window plus longest answer when neither is configured: Context:MaxTokens (4,096) and
    /// Model:MaxOutputTokens (8,192).</summary>
    public const int DefaultSequenceTokens = 4096 + 8192;

    /// <summary>A kept conversation's size for sizing the kept half: a few turns of a WeChat chat.</summary>
    private const int KeptConversationTokens = 512;

    /// <summary>llama.cpp's limit on sequences in one context (LLAMA_MAX_SEQ).</summary>
    private const int MaxLlamaSequences = 256;

    public static KvPlan From(LlamaEngineOptions options, long bytesPerToken, long modelBytes, long availableMemoryBytes, bool onGpu)
    {
        ArgumentNullException.ThrowIfNull(options);
        bytesPerToken = Math.Max(1, bytesPerToken);
        var budget = options.KvMemoryMiB is { } mib ? mib * (1L << 20) : DefaultBudget(options, modelBytes, availableMemoryBytes, onGpu);
        var budgetCells = (int)Math.Clamp(budget / bytesPerToken, 256, 1_000_000_000);
        var sequenceTokens = options.SequenceTokens ?? DefaultSequenceTokens;
        var sequences = options.MaxSequences ?? Math.Clamp(budgetCells / sequenceTokens, 1, onGpu ? 64 : 8);
        var cells = options.ContextSize ?? RoundDown(Math.Min(budgetCells, 2L * sequences * sequenceTokens));
        // Kept caches hold cells only until someone needs them (they are parked first). On a GPU, what bounds them is
        // sequence ids: at least as many as generate (llama-server keeps one cache per slot), at least 16. On a CPU,
        // every decode attends over the span of all used cells (one unified cache; llama.cpp's CPU kernel reads the
        // mask of every cell for every row and head), so each kept cache slows every other conversation's prefill:
        // one kept, the rest parked in memory, where a restore is a copy (16 users × 6 turns on 0.5B: turn 6 at 2.7 s
        // against 4.0 s with 8 kept, docs/benchmarks.md).
        var kept = options.MaxKeptConversations
            ?? (onGpu
                ? (int)Math.Clamp(cells / KeptConversationTokens, Math.Min(Math.Max(16, sequences), MaxLlamaSequences - sequences), MaxLlamaSequences - sequences)
                : 1);
        var derived = options.ContextSize is null || options.MaxSequences is null || options.MaxKeptConversations is null;
        var perSequence = options.KvLayout == "per-sequence" || (options.KvLayout == "auto" && !onGpu && cells / (sequences + kept) >= sequenceTokens);
        return new KvPlan(cells, sequences, kept, sequenceTokens, bytesPerToken, budget, derived, perSequence);
    }

    /// <summary>Half of what is left beside the model, at most 16 GiB: the rest is the operating system's, the
    /// compute buffers' and the parked caches'.</summary>
    private static long DefaultBudget(LlamaEngineOptions options, long modelBytes, long availableMemoryBytes, bool onGpu)
    {
        var total = onGpu ? (options.MaxGpuMemoryMiB > 0 ? options.MaxGpuMemoryMiB * (1L << 20) : modelBytes + 16L * (1 << 30)) : availableMemoryBytes;
        return Math.Clamp((total - modelBytes) / 2, 256L << 20, 16L << 30);
    }

    private static int RoundDown(long cells) => (int)Math.Max(256, cells / 256 * 256);

    /// <summary>The line the start-up log gives.</summary>
    public override string ToString()
    {
        var perSequence = Cells / Math.Max(1, Sequences);
        var room = perSequence >= SequenceTokens
            ? string.Create(CultureInfo.InvariantCulture, $"{Sequences} generating × {SequenceTokens:N0} tokens, kept caches in the rest")
            : string.Create(CultureInfo.InvariantCulture, $"{Sequences} generating share them (less than {SequenceTokens:N0} tokens each: long answers preempt others)");
        return string.Create(CultureInfo.InvariantCulture,
            $"KV: {Cells:N0} cells ({Cells * BytesPerToken / (1 << 20):N0} MiB at {BytesPerToken / 1024.0:N1} KiB a token) — {room}, up to {Kept} kept on sequences, parked beyond{(Derived ? "; sized from " + (BudgetBytes >> 20).ToString("N0", CultureInfo.InvariantCulture) + " MiB of KV memory" : "")}");
    }
}
