using System.ComponentModel.DataAnnotations;

namespace WeSeek.Media;

/// <summary>
/// Image understanding: an OpenAI-compatible vision endpoint that describes the images users send. Section
/// <c>Vision</c>. Off until <see cref="Endpoint"/> is set.
/// </summary>
public sealed class VisionOptions : IValidatableObject
{
    /// <summary>
    /// The vision server's base URL, up to and including <c>/v1</c> (vLLM or llama-server with a vision model such
    /// as Qwen2.5-VL, Ollama with llava, any OpenAI-compatible API). Default none: images are not described and
    /// the turn answers from the message's text, as without this feature.
    /// </summary>
    public Uri? Endpoint { get; set; }

    /// <summary>The model name the vision server knows. Required with <see cref="Endpoint"/>.</summary>
    public string Model { get; set; } = "";

    /// <summary>The API key, if the server wants one. Default none. Never logged.</summary>
    public string? ApiKey { get; set; }

    /// <summary>
    /// How long describing one image may take. Default 30 s: a 7B vision model on a modest GPU describes an image
    /// in a few seconds; past this the turn answers from the text rather than keep the user waiting.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:05:00")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The instruction sent with each image. Default 请用中文简要描述这张图片.</summary>
    [Required]
    public string Prompt { get; set; } = "请用中文简要描述这张图片";

    /// <summary>
    /// Longest description asked for, in tokens. Default 300: a few sentences, which is what a chat reply and a
    /// follow-up question need, and short enough to keep in the conversation's context.
    /// </summary>
    [Range(16, 4096)]
    public int MaxOutputTokens { get; set; } = 300;

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Endpoint is null)
        {
            yield break;
        }

        if (Endpoint is not { IsAbsoluteUri: true, Scheme: "http" or "https" })
        {
            yield return new ValidationResult("must be an absolute http or https URL such as http://127.0.0.1:8081/v1", [nameof(Endpoint)]);
        }

        if (string.IsNullOrWhiteSpace(Model))
        {
            yield return new ValidationResult("is required when Vision:Endpoint is set (the vision model's name on that server)", [nameof(Model)]);
        }
    }
}
