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

    /// <summary>
    /// Several servers serving the same model (each base URL up to and including <c>/v1</c>). When set, each
    /// conversation goes to the same healthy replica every time (rendezvous hashing: its KV cache stays warm
    /// there), and to the next one in its order when that one is down. Default none: <see cref="BaseUrl"/> alone.
    /// </summary>
    public IList<Uri> Replicas { get; } = [];

    /// <summary>How often each replica is asked for <c>/models</c> to notice it went down or came back.
    /// Default 10 s.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan HealthInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The servers in use: <see cref="Replicas"/>, or <see cref="BaseUrl"/> when there are none.</summary>
    public IReadOnlyList<Uri> Endpoints => Replicas.Count > 0 ? [.. Replicas] : [BaseUrl];

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        for (var i = 0; i < Replicas.Count; i++)
        {
            if (Replicas[i] is not { IsAbsoluteUri: true, Scheme: "http" or "https" })
            {
                yield return new ValidationResult("must be an absolute http or https URL such as http://10.0.0.2:8000/v1", [$"{nameof(Replicas)}:{i}"]);
            }
        }

        if (Replicas.Distinct().Count() != Replicas.Count)
        {
            yield return new ValidationResult("lists a server twice", [nameof(Replicas)]);
        }

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
    public override string ToString() =>
        $"{(Replicas.Count > 0 ? string.Join(", ", Replicas) : BaseUrl.ToString())} model {ModelId}{(ApiKey is null ? "" : " (with API key)")}";
}
