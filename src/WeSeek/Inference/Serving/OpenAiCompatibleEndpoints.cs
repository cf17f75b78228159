using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.AI;
using WeSeek.Inference;
using WeSeek.Inference.Serving;

namespace Microsoft.AspNetCore.Builder;

/// <summary>
/// An OpenAI-compatible API over the host's <see cref="IChatClient"/>: <c>POST /v1/chat/completions</c>
/// (buffered and SSE streaming, with <c>reasoning_content</c> apart from <c>content</c> as llama-server's
/// <c>--reasoning-format deepseek</c> does), <c>GET /v1/models</c> and <c>GET /health</c>. A conversation id
/// (header <c>X-Conversation-Id</c>, else the <c>user</c> field) selects the engine's kept KV cache.
/// </summary>
public static class OpenAiCompatibleEndpoints
{
    /// <summary>Maps the endpoints; <paramref name="modelId"/> is the name <c>/v1/models</c> reports.</summary>
    public static IEndpointRouteBuilder MapOpenAiCompatible(this IEndpointRouteBuilder endpoints, string modelId)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        endpoints.MapGet("/health", () => TypedResults.Ok(new { status = "ok" }));
        endpoints.MapGet("/v1/models", () => TypedResults.Ok(new
        {
            @object = "list",
            data = new[] { new { id = modelId, @object = "model", created = 0, owned_by = "weseek" } },
        }));
        endpoints.MapPost("/v1/chat/completions", (HttpContext context, IChatClient client, TimeProvider time) =>
            ChatCompletionsAsync(context, client, modelId, time));
        return endpoints;
    }

    private static async Task ChatCompletionsAsync(HttpContext context, IChatClient client, string modelId, TimeProvider time)
    {
        ChatCompletionRequest request;
        try
        {
            var body = await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted);
            request = ChatCompletionRequest.Parse(body, context.Request.Headers["X-Conversation-Id"].FirstOrDefault());
        }
        catch (Exception ex) when (ex is JsonException or OpenAiRequestException)
        {
            await WriteErrorAsync(context, StatusCodes.Status400BadRequest, ex.Message, "invalid_request_error");
            return;
        }

        var id = "chatcmpl-" + Guid.NewGuid().ToString("N");
        var created = time.GetUtcNow().ToUnixTimeSeconds();
        try
        {
            if (request.Stream)
            {
                await StreamAsync(context, client, request, id, created, modelId);
            }
            else
            {
                var response = await client.GetResponseAsync(request.Messages, request.Options, context.RequestAborted);
                await context.Response.WriteAsJsonAsync(new JsonObject
                {
                    ["id"] = id,
                    ["object"] = "chat.completion",
                    ["created"] = created,
                    ["model"] = modelId,
                    ["choices"] = new JsonArray(new JsonObject
                    {
                        ["index"] = 0,
                        ["message"] = Message(response.Text, Reasoning(response.Messages.SelectMany(m => m.Contents))),
                        ["finish_reason"] = FinishReason(response.FinishReason),
                    }),
                    ["usage"] = Usage(response.Usage),
                }, context.RequestAborted);
            }
        }
        catch (EngineRequestException ex) when (!context.Response.HasStarted)
        {
            await WriteErrorAsync(context, ex.IsBusy ? StatusCodes.Status429TooManyRequests : StatusCodes.Status400BadRequest, ex.Message, ex.IsBusy ? "server_busy" : "invalid_request_error");
        }
    }

    private static async Task StreamAsync(HttpContext context, IChatClient client, ChatCompletionRequest request, string id, long created, string modelId)
    {
        context.Response.ContentType = "text/event-stream";
        context.Response.Headers.CacheControl = "no-cache";
        var first = true;
        UsageDetails? usage = null;
        ChatFinishReason? finish = null;
        await foreach (var update in client.GetStreamingResponseAsync(request.Messages, request.Options, context.RequestAborted))
        {
            finish = update.FinishReason ?? finish;
            if (first && update.Contents.Count == 0)
            {
                // The first token is sampled (its text may still be held back): the role chunk goes out now, as
                // OpenAI and llama-server send it, so a client sees the time to first token.
                await WriteChunkAsync(context, Chunk(id, created, modelId, new JsonObject { ["role"] = "assistant", ["content"] = null }, null));
                first = false;
                continue;
            }

            foreach (var content in update.Contents)
            {
                JsonObject? delta = content switch
                {
                    TextReasoningContent { Text.Length: > 0 } r => new JsonObject { ["reasoning_content"] = r.Text },
                    TextContent { Text.Length: > 0 } t => new JsonObject { ["content"] = t.Text },
                    UsageContent u => Track(ref usage, u.Details),
                    _ => null,
                };
                if (delta is null)
                {
                    continue;
                }

                if (first)
                {
                    delta["role"] = "assistant";
                    first = false;
                }

                await WriteChunkAsync(context, Chunk(id, created, modelId, delta, null));
            }
        }

        await WriteChunkAsync(context, Chunk(id, created, modelId, new JsonObject(), FinishReason(finish ?? ChatFinishReason.Stop)));
        if (request.IncludeUsage)
        {
            var chunk = Chunk(id, created, modelId, null, null);
            chunk["choices"] = new JsonArray();
            chunk["usage"] = Usage(usage);
            await WriteChunkAsync(context, chunk);
        }

        await context.Response.WriteAsync("data: [DONE]\n\n", context.RequestAborted);
    }

    private static JsonObject? Track(ref UsageDetails? usage, UsageDetails details)
    {
        usage = details;
        return null;
    }

    private static JsonObject Chunk(string id, long created, string modelId, JsonObject? delta, string? finishReason) => new()
    {
        ["id"] = id,
        ["object"] = "chat.completion.chunk",
        ["created"] = created,
        ["model"] = modelId,
        ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["delta"] = delta ?? new JsonObject(), ["finish_reason"] = finishReason }),
    };

    private static async Task WriteChunkAsync(HttpContext context, JsonObject chunk)
    {
        await context.Response.WriteAsync("data: " + chunk.ToJsonString() + "\n\n", context.RequestAborted);
        await context.Response.Body.FlushAsync(context.RequestAborted);
    }

    private static JsonObject Message(string content, string? reasoning)
    {
        var message = new JsonObject { ["role"] = "assistant", ["content"] = content };
        if (!string.IsNullOrEmpty(reasoning))
        {
            message["reasoning_content"] = reasoning;
        }

        return message;
    }

    private static string? Reasoning(IEnumerable<AIContent> contents)
    {
        var text = string.Concat(contents.OfType<TextReasoningContent>().Select(r => r.Text));
        return text.Length == 0 ? null : text;
    }

    private static string FinishReason(ChatFinishReason? reason) =>
        reason == ChatFinishReason.Length ? "length" : reason == ChatFinishReason.ContentFilter ? "content_filter" : reason == ChatFinishReason.ToolCalls ? "tool_calls" : "stop";

    private static JsonObject Usage(UsageDetails? usage) => new()
    {
        ["prompt_tokens"] = usage?.InputTokenCount ?? 0,
        ["completion_tokens"] = usage?.OutputTokenCount ?? 0,
        ["total_tokens"] = usage?.TotalTokenCount ?? (usage?.InputTokenCount ?? 0) + (usage?.OutputTokenCount ?? 0),
        ["prompt_tokens_details"] = new JsonObject { ["cached_tokens"] = usage?.CachedInputTokenCount ?? 0 },
    };

    private static Task WriteErrorAsync(HttpContext context, int status, string message, string type)
    {
        context.Response.StatusCode = status;
        return context.Response.WriteAsJsonAsync(new { error = new { message, type, param = (string?)null, code = (string?)null } }, context.RequestAborted);
    }
}
