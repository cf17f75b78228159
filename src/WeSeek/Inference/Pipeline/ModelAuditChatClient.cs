using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;
using WeSeek.Security;

namespace WeSeek.Inference.Pipeline;

/// <summary>
/// Writes every model call to the audit log (<c>model.call</c>): the message it answers, the model, the sampling
/// options, the token counts, the latency, how it finished, and the answer's SHA-256, never the answer: the log
/// proves what was said without holding it. The message comes as <see cref="ModelPipeline.InboxIdProperty"/> in
/// the options, which this client takes out before the engine sees them. A call that throws is not recorded
/// (the dispatcher retries the turn). Thread-safe.
/// </summary>
internal sealed class ModelAuditChatClient(IChatClient innerClient, AuditLog audit, IOptionsMonitor<ModelOptions> model, TimeProvider time)
    : DelegatingChatClient(innerClient)
{
    public override async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var (inboxId, inner) = Take(options);
        var started = time.GetTimestamp();
        var response = await base.GetResponseAsync(messages, inner, cancellationToken);
        await AppendAsync(inboxId, inner, response.ModelId, response.Usage, response.FinishReason, response.Text, started);
        return response;
    }

    public override async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var (inboxId, inner) = Take(options);
        var started = time.GetTimestamp();
        var answer = new StringBuilder();
        UsageDetails? usage = null;
        ChatFinishReason? finish = null;
        string? modelId = null;
        await foreach (var update in base.GetStreamingResponseAsync(messages, inner, cancellationToken))
        {
            finish = update.FinishReason ?? finish;
            modelId = update.ModelId ?? modelId;
            foreach (var content in update.Contents)
            {
                switch (content)
                {
                    case UsageContent used:
                        usage = used.Details;
                        break;
                    case TextContent delta:
                        answer.Append(delta.Text);
                        break;
                }
            }

            yield return update;
        }

        await AppendAsync(inboxId, inner, modelId, usage, finish, answer.ToString(), started);
    }

    /// <summary>The message id the caller put in the options, and the options without it.</summary>
    private static (long? InboxId, ChatOptions? Options) Take(ChatOptions? options)
    {
        if (options?.AdditionalProperties?.TryGetValue(ModelPipeline.InboxIdProperty, out var value) != true)
        {
            return (null, options);
        }

        var inner = options.Clone();
        inner.AdditionalProperties!.Remove(ModelPipeline.InboxIdProperty);
        if (inner.AdditionalProperties.Count == 0)
        {
            inner.AdditionalProperties = null;
        }

        return (value as long?, inner);
    }

    private Task<long> AppendAsync(long? inboxId, ChatOptions? options, string? modelId, UsageDetails? usage, ChatFinishReason? finish, string answer, long started) =>
        audit.AppendAsync("model.call", new JsonObject
        {
            ["inboxId"] = inboxId,
            ["model"] = modelId ?? model.CurrentValue.Provider,
            ["temperature"] = options?.Temperature,
            ["topP"] = options?.TopP,
            ["maxOutputTokens"] = options?.MaxOutputTokens,
            ["seed"] = options?.Seed,
            ["promptTokens"] = usage?.InputTokenCount,
            ["completionTokens"] = usage?.OutputTokenCount,
            ["latencyMs"] = (long)time.GetElapsedTime(started).TotalMilliseconds,
            ["finish"] = finish?.Value,
            ["answerSha256"] = AuditLog.Sha256(answer),
        }, CancellationToken.None);
}
