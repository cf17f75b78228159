using System.ComponentModel.DataAnnotations;

namespace WeSeek.Inference.Llama.Models;

/// <summary>Where models come from and go. Section <c>Models</c>.</summary>
public sealed class ModelsOptions
{
    /// <summary>Download endpoint. Default <c>https://huggingface.co/</c>; a mirror such as
    /// <c>https://hf-mirror.com/</c> serves the same paths, and <c>https://modelscope.cn/</c> with
    /// <see cref="Source"/> <c>modelscope</c> is usually faster in mainland China.</summary>
    [Required]
    public Uri Endpoint { get; set; } = new("https://huggingface.co/");

    /// <summary>URL layout of <see cref="Endpoint"/>: <c>huggingface</c> (also mirrors) or <c>modelscope</c>.
    /// Default huggingface.</summary>
    [RegularExpression("^(huggingface|modelscope)$", ErrorMessage = "must be huggingface or modelscope")]
    public string Source { get; set; } = "huggingface";

    /// <summary>When no model is configured or stored, <c>weseek serve</c> pulls <see cref="DefaultModel"/> at
    /// start-up (with progress in the log); if that fails (offline) it synthesises a test model instead.
    /// Default true: a fresh install gets a real model without a separate step.</summary>
    public bool AutoPull { get; set; } = true;

    /// <summary>The model pulled on a first run. Default <c>deepseek-r1:1.5b:q4_k_m</c> (1.1 GB, about 4 chats
    /// at ~10 tok/s on 2 CPU cores).</summary>
    public string DefaultModel { get; set; } = "deepseek-r1:1.5b:q4_k_m";

    /// <summary>The models directory. Default <c>models</c> inside <c>Storage:DataDirectory</c>, where the
    /// engine looks for a model when <c>Model:Llama:ModelPath</c> is not set.</summary>
    public string? Directory { get; set; }
}
