using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;

namespace WeSeek.Inference.Serving;

/// <summary>An OpenAI chat-completions request, read into M.E.AI types. Unknown fields are ignored, as
/// OpenAI-compatible servers do; wrong types and values out of OpenAI's ranges are refused with the field's name
/// (a 400 in OpenAI's error shape, never a 500).</summary>
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
            if (message is not JsonObject entry)
            {
                throw new OpenAiRequestException("Every entry of 'messages' must be an object.");
            }

            var role = String(entry, "role", "messages[].role") ?? throw new OpenAiRequestException("Every message needs a 'role'.");
            chat.Add(new ChatMessage(new ChatRole(role), Content(entry["content"])));
        }

        // OpenAI's ranges: temperature 0–2, top_p (0, 1], at least one token.
        var temperature = Float(json, "temperature");
        if (temperature is < 0 or > 2)
        {
            throw new OpenAiRequestException($"'temperature' must be between 0 and 2 (was {temperature}).");
        }

        var topP = Float(json, "top_p");
        if (topP is <= 0 or > 1)
        {
            throw new OpenAiRequestException($"'top_p' must be greater than 0 and at most 1 (was {topP}).");
        }

        var topK = Int(json, "top_k");
        if (topK is < 0)
        {
            throw new OpenAiRequestException($"'top_k' must be 0 or more (was {topK}).");
        }

        var maxTokens = Int(json, "max_completion_tokens") ?? Int(json, "max_tokens");
        if (maxTokens is < 1)
        {
            throw new OpenAiRequestException($"'max_tokens' must be at least 1 (was {maxTokens}).");
        }

        var options = new ChatOptions
        {
            Temperature = temperature,
            TopP = topP,
            TopK = topK,
            MaxOutputTokens = maxTokens,
            Seed = Long(json, "seed"),
            ConversationId = conversationHeader ?? String(json, "user", "user"),
            StopSequences = json["stop"] switch
            {
                null => null,
                JsonValue => [String(json, "stop", "stop")!],
                JsonArray many => many.Select(s => s is JsonValue v && v.TryGetValue<string>(out var text) ? text : throw new OpenAiRequestException("'stop' must be a string or an array of strings.")).ToList(),
                _ => throw new OpenAiRequestException("'stop' must be a string or an array of strings."),
            },
            ResponseFormat = ResponseFormat(json["response_format"]),
        };
        var stream = Bool(json, "stream") ?? false;
        var includeUsage = json["stream_options"] switch
        {
            null => false,
            JsonObject streamOptions => Bool(streamOptions, "include_usage") ?? false,
            _ => throw new OpenAiRequestException("'stream_options' must be an object."),
        };
        return new ChatCompletionRequest(chat, options, stream, includeUsage);
    }

    private static string Content(JsonNode? content) => content switch
    {
        null => "",
        JsonValue value when value.TryGetValue<string>(out var text) => text,
        JsonArray parts => string.Concat(parts.Select(p => p is JsonObject part ? String(part, "text", "content[].text") ?? "" : throw new OpenAiRequestException("'content' parts must be objects."))),
        _ => throw new OpenAiRequestException("'content' must be a string or an array of parts."),
    };

    private static ChatResponseFormatJson? ResponseFormat(JsonNode? format)
    {
        if (format is null)
        {
            return null;
        }

        if (format is not JsonObject json)
        {
            throw new OpenAiRequestException("'response_format' must be an object.");
        }

        return String(json, "type", "response_format.type") switch
        {
            "json_object" => ChatResponseFormat.Json,
            "json_schema" when json["json_schema"]?["schema"] is JsonObject schema => ChatResponseFormat.ForJsonSchema(System.Text.Json.JsonSerializer.SerializeToElement(schema)),
            "json_schema" => throw new OpenAiRequestException("'response_format.json_schema.schema' must be an object."),
            "text" or null => null,
            var other => throw new OpenAiRequestException($"'response_format.type' must be text, json_object or json_schema (was {other})."),
        };
    }

    private static string? String(JsonObject json, string name, string display) => json[name] switch
    {
        null => null,
        JsonValue value when value.TryGetValue<string>(out var text) => text,
        _ => throw new OpenAiRequestException($"'{display}' must be a string."),
    };

    private static bool? Bool(JsonObject json, string name) => json[name] switch
    {
        null => null,
        JsonValue value when value.TryGetValue<bool>(out var flag) => flag,
        _ => throw new OpenAiRequestException($"'{name}' must be true or false."),
    };

    private static long? Long(JsonObject json, string name) => json[name] switch
    {
        null => null,
        JsonValue value when value.TryGetValue<long>(out var number) => number,
        JsonValue value when value.TryGetValue<double>(out var real) && real == Math.Floor(real) && Math.Abs(real) < 9e18 => (long)real,
        _ => throw new OpenAiRequestException($"'{name}' must be an integer."),
    };

    private static float? Float(JsonObject json, string name) => json[name] switch
    {
        null => null,
        JsonValue value when value.TryGetValue<double>(out var number) && double.IsFinite(number) => (float)number,
        _ => throw new OpenAiRequestException($"'{name}' must be a number."),
    };

    private static int? Int(JsonObject json, string name) => Long(json, name) switch
    {
        null => null,
        var number when number is >= int.MinValue and <= int.MaxValue => (int)number,
        _ => throw new OpenAiRequestException($"'{name}' is out of range."),
    };
}

/// <summary>A request the OpenAI-compatible API refuses with 400.</summary>
internal sealed class OpenAiRequestException(string message) : Exception(message)
{
    public OpenAiRequestException() : this("Invalid request.") { }

    public OpenAiRequestException(string message, Exception innerException) : this(message + " " + innerException.Message) { }
}
