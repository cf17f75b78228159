using System.ComponentModel.DataAnnotations;

namespace WeSeek.Inference;

/// <summary>How the model is called. Section <c>Model</c>. Defaults follow DeepSeek's advice for R1
/// (deepseek-ai/DeepSeek-R1 README, "Usage Recommendations").</summary>
public sealed class ModelOptions
{
    /// <summary>Which engine answers: <c>llama</c> (embedded llama.cpp, section <c>Model:Llama</c>) or
    /// <c>remote</c> (any OpenAI-compatible server, section <c>Model:Remote</c>). Default <c>llama</c>: the
    /// model runs on the operator's own machine with nothing else to install.</summary>
    [Required]
    [RegularExpression("^(llama|remote)$", ErrorMessage = "must be 'llama' or 'remote'")]
    public string Provider { get; set; } = "llama";

    /// <summary>Sampling temperature. Default 0.6: DeepSeek's recommendation (0.5-0.7) against endless
    /// repetition.</summary>
    [Range(0.0, 2.0)]
    public float Temperature { get; set; } = 0.6f;

    /// <summary>Nucleus sampling. Default 0.95, as in DeepSeek's benchmarks.</summary>
    [Range(0.0, 1.0)]
    public float TopP { get; set; } = 0.95f;

    /// <summary>Sampling seed; default none (a new one per answer). Set it for reproducible demos and tests.</summary>
    public long? Seed { get; set; }

    /// <summary>Most tokens one answer may take, reasoning included. Default 8,192: R1 often reasons for
    /// thousands of tokens; a WeChat answer rarely needs more.</summary>
    [Range(16, 131_072)]
    public int MaxOutputTokens { get; set; } = 8192;

    /// <summary>Offer the plugins' tools (<c>IWeSeekPlugin.Tools</c>) to the model and run the calls it makes.
    /// Default false: DeepSeek-R1 distills call tools unreliably; turn it on for a model that does it well.</summary>
    public bool ToolCalling { get; set; }

    /// <summary>Where the persona goes. Default <see cref="PersonaPlacement.FirstUserTurn"/>: the original
    /// R1 distills are trained without a system prompt.</summary>
    public PersonaPlacement PersonaPlacement { get; set; } = PersonaPlacement.FirstUserTurn;

    /// <summary>What the user gets when the model stopped while still reasoning (no <c>&lt;/think&gt;</c>).</summary>
    [Required]
    public string CutOffReply { get; set; } = "抱歉，这个问题我想得太久，没能得出答案。可以把问题说得更具体一些再问我一次吗？";
}

/// <summary>Where the persona is placed in the prompt.</summary>
public enum PersonaPlacement
{
    /// <summary>At the top of the first user message of the window (R1 distills).</summary>
    FirstUserTurn,

    /// <summary>As a system message (R1-0528 and most other models).</summary>
    System,
}
