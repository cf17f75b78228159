using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;

namespace WeSeek.Inference.Serving;

/// <summary>An OpenAI chat-completions request, read into M.E.AI types. Unknown fields are ignored, as
/// OpenAI-compatible servers do; wrong types are refused with the field's name.</summary>
internal sealed record ChatCompletionRequest(IReadOnlyList<ChatMessage> Messages, ChatOptions Options, bool Stream, bool IncludeUsage)
{
    public static ChatCompletionRequest Parse(JsonNode? body, string? conversationHeader)
    {
        if (body is not JsonObject json)
        {
            throw new OpenAiRequestException("The body must be a JSON object.");
        }

        if (json["messages"] is not JsonArray { Count: > 0 } messages)
        {
            throw new OpenAiRequestException("'messages' must be a non-empty array.");
        }

        var chat = new List<ChatMessage>(messages.Count);
        foreach (var message in messages)
        {
            var role = message?["role"]?.GetValue<string>() ?? throw new OpenAiRequestException("Every message needs a 'role'.");
            chat.Add(new ChatMessage(new ChatRole(role), Content(message!["content"])));
        }

        var options = new ChatOptions
        {
            Temperature = Float(json, "temperature"),
            TopP = Float(json, "top_p"),
            TopK = Int(json, "top_k"),
            MaxOutputTokens = Int(json, "max_completion_tokens") ?? Int(json, "max_tokens"),
            Seed = json["seed"] is JsonValue seed ? seed.GetValue<long>() : null,
            ConversationId = conversationHeader ?? json["user"]?.GetValue<string>(),
            StopSequences = json["stop"] switch
            {
                JsonValue single => [single.GetValue<string>()],
                JsonArray many => many.Select(s => s!.GetValue<string>()).ToList(),
                _ => null,
            },
            ResponseFormat = json["response_format"]?["type"]?.GetValue<string>() switch
            {
                "json_object" => ChatResponseFormat.Json,
                "json_schema" => ChatResponseFormat.ForJsonSchema(System.Text.Json.JsonSerializer.SerializeToElement(json["response_format"]!["json_schema"]!["schema"])),
                _ => null,
            },
        };
        var stream = json["stream"]?.GetValue<bool>() ?? false;
        var includeUsage = json["stream_options"]?["include_usage"]?.GetValue<bool>() ?? false;
        return new ChatCompletionRequest(chat, options, stream, includeUsage);
    }

    private static string Content(JsonNode? content) => content switch
    {
        null => "",
        JsonValue value => value.GetValue<string>(),
        JsonArray parts => string.Concat(parts.Select(p => p?["text"]?.GetValue<string>() ?? "")),
        _ => throw new OpenAiRequestException("'content' must be a string or an array of parts."),
    };

    private static float? Float(JsonObject json, string name)
    {
        try
        {
            return json[name] is JsonValue value ? (float)value.GetValue<double>() : null;
        }
        catch (Exception ex) when (ex is FormatException or InvalidOperationException)
        {
            throw new OpenAiRequestException($"'{name}' must be a number.");
        }
    }

    private static int? Int(JsonObject json, string name)
    {
        try
        {
            return json[name] is JsonValue value ? value.GetValue<int>() : null;
        }
        catch (Exception ex) when (ex is FormatException or InvalidOperationException)
        {
            throw new OpenAiRequestException($"'{name}' must be an integer.");
        }
    }
}

/// <summary>A request the OpenAI-compatible API refuses with 400.</summary>
internal sealed class OpenAiRequestException(string message) : Exception(message)
{
    public OpenAiRequestException() : this("Invalid request.") { }

    public OpenAiRequestException(string message, Exception innerException) : this(message + " " + innerException.Message) { }
}
