using System.ComponentModel.DataAnnotations;

namespace WeSeek.Inference.Remote;

/// <summary>An OpenAI-compatible server (vLLM, SGLang, llama-server, Ollama, TensorRT-LLM/Triton, another
/// WeSeek). Section <c>Model:Remote</c>.</summary>
public sealed class RemoteEngineOptions : IValidatableObject
{
    /// <summary>The server's base URL, up to and including <c>/v1</c>. Default
    /// <c>http://127.0.0.1:8080/v1</c>: llama-server's default address.</summary>
    [Required]
    public Uri BaseUrl { get; set; } = new("http://127.0.0.1:8080/v1");

    /// <summary>The model name the server knows. Default <c>deepseek-r1</c>.</summary>
    [Required]
    public string ModelId { get; set; } = "deepseek-r1";

    /// <summary>The API key, if the server wants one. Default none. Never logged.</summary>
    public string? ApiKey { get; set; }

    /// <summary>How long one model call may take, streaming included. Default 5 min: R1 on a modest GPU can
    /// reason for minutes; WeChat answers go out asynchronously anyway.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Whether the server's output starts inside <c>&lt;think&gt;</c>. Default <c>Detect</c>: a server with a
    /// reasoning parser (vLLM, SGLang, llama-server's default) sends no tags, and one without it sends the
    /// opening tag with older templates. Set <c>Open</c> for raw output of a template that opens the block.
    /// </summary>
    public Reasoning.ThinkStart ThinkStart { get; set; } = Reasoning.ThinkStart.Detect;

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (BaseUrl is { IsAbsoluteUri: true } url && url.Scheme is not ("http" or "https"))
        {
            yield return new ValidationResult("must be an http or https URL such as http://127.0.0.1:8080/v1", [nameof(BaseUrl)]);
        }
        else if (BaseUrl is { IsAbsoluteUri: false })
        {
            yield return new ValidationResult("must be an absolute URL such as http://127.0.0.1:8080/v1", [nameof(BaseUrl)]);
        }
    }

    /// <inheritdoc />
    public override string ToString() => $"{BaseUrl} model {ModelId}{(ApiKey is null ? "" : " (with API key)")}";
}
