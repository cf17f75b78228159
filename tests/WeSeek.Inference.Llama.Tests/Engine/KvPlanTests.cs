using WeSeek.Inference.Llama.Engine;

namespace WeSeek.Inference.Llama.Tests.Engine;

/// <summary>Defaults sized from the memory budget and the model's KV bytes per token.</summary>
public sealed class KvPlanTests
{
    private const long MiB = 1L << 20;
    private const long GiB = 1L << 30;

    [Fact]
    public void Cpu_WithRoomToSpare_PlansEightConversationsOfAWholeWindow_AndParksIdleCachesOffTheCells()
    {
        // The 1.5B distill: 28 layers × K and V × 256 wide × 2 bytes = 28 KiB a token; 24 GiB of RAM.
        var plan = KvPlan.From(new LlamaEngineOptions(), 28 * 1024, (long)(1.1 * GiB), 24 * GiB, onGpu: false);

        Assert.Equal(8, plan.Sequences);
        Assert.Equal(2 * 8 * KvPlan.DefaultSequenceTokens, plan.Cells);
        Assert.Equal(1, plan.Kept); // On a CPU, one kept on a sequence; the rest parked in memory.
        Assert.True(plan.Cells * plan.BytesPerToken <= plan.BudgetBytes);
        Assert.StartsWith("KV: 196,608 cells", plan.ToString(), StringComparison.Ordinal);
        Assert.Contains("8 generating × 12,288 tokens", plan.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void SmallMachine_FewerConversations_EachStillHoldsItsWindowAndAnswer()
    {
        var plan = KvPlan.From(new LlamaEngineOptions(), 56 * 1024, 4 * GiB, 8 * GiB, onGpu: false);

        Assert.InRange(plan.Sequences, 1, 7);
        Assert.True(plan.Cells >= plan.Sequences * plan.SequenceTokens);
        Assert.True(plan.Cells * plan.BytesPerToken <= plan.BudgetBytes);
    }

    [Fact]
    public void Gpu_WithABudget_PlansUpToSixtyFourConversations()
    {
        var plan = KvPlan.From(new LlamaEngineOptions { MaxGpuMemoryMiB = 120_000, SequenceTokens = 4096 }, 56 * 1024, 5 * GiB, 24 * GiB, onGpu: true);

        Assert.Equal(64, plan.Sequences);
        Assert.True(plan.Cells >= 64 * 4096);
        Assert.True(plan.Kept >= 64);
        Assert.True(plan.Cells * plan.BytesPerToken <= plan.BudgetBytes);
    }

    [Fact]
    public void ExplicitSettings_WinOverTheDerivedOnes()
    {
        var plan = KvPlan.From(new LlamaEngineOptions { ContextSize = 8192, MaxSequences = 4, MaxKeptConversations = 12 }, 12 * 1024, GiB, 24 * GiB, onGpu: false);

        Assert.Equal((8192, 4, 12, false), (plan.Cells, plan.Sequences, plan.Kept, plan.Derived));
        Assert.Contains("less than 12,288 tokens each", plan.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void KvMemoryMiB_BoundsTheCells()
    {
        var plan = KvPlan.From(new LlamaEngineOptions { KvMemoryMiB = 1024 }, 12 * 1024, GiB, 24 * GiB, onGpu: false);

        Assert.Equal(1024 * MiB, plan.BudgetBytes);
        Assert.True(plan.Cells <= 1024 * MiB / (12 * 1024));
    }

    [Fact]
    public void AutoLayout_IsPerSequenceOnACpuWhenEveryShareHoldsAWindowAndAnAnswer_UnifiedOtherwise()
    {
        // 196,608 cells over 8 generating + 1 kept: 21,845 a sequence, more than 12,288.
        Assert.True(KvPlan.From(new LlamaEngineOptions(), 28 * 1024, (long)(1.1 * GiB), 24 * GiB, onGpu: false).PerSequence);
        Assert.False(KvPlan.From(new LlamaEngineOptions { MaxGpuMemoryMiB = 120_000 }, 56 * 1024, 5 * GiB, 24 * GiB, onGpu: true).PerSequence);
        // 8,192 cells over 16 sequences: 512 a share would cut answers short.
        Assert.False(KvPlan.From(new LlamaEngineOptions { ContextSize = 8192, MaxSequences = 4, MaxKeptConversations = 12 }, 12 * 1024, GiB, 24 * GiB, onGpu: false).PerSequence);
        Assert.True(KvPlan.From(new LlamaEngineOptions { ContextSize = 8192, MaxSequences = 4, MaxKeptConversations = 12, KvLayout = "per-sequence" }, 12 * 1024, GiB, 24 * GiB, onGpu: false).PerSequence);
        Assert.False(KvPlan.From(new LlamaEngineOptions { KvLayout = "unified" }, 28 * 1024, (long)(1.1 * GiB), 24 * GiB, onGpu: false).PerSequence);
    }
}
