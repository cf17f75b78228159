using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;

namespace WeSeek.Inference.Llama.Engine;

/// <summary>
/// The embedded engine as an <see cref="IChatClient"/>, written for WeSeek rather than through LLamaSharp's
/// <c>AsChatClient</c> (which ignores the chat template, injects <c>User:</c> anti-prompts and reports no
/// usage): the prompt comes from the model's template with the R1 rules, and the response reports usage
/// and the finish reason. The raw text still contains <c>&lt;/think&gt;</c>; compose with
/// <c>ReasoningSplitChatClient</c> and <c>ThinkStart.Open</c> (the prompt opens the block). Thread-safe.
/// </summary>
internal sealed class LlamaChatClient : IChatClient
{
    private readonly LlamaEngineHost _host;

    public LlamaChatClient(LlamaEngineHost host) => _host = host;

    public async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
        await GetStreamingResponseAsync(messages, options, cancellationToken).ToChatResponseAsync(cancellationToken);

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        // Held to the last update: a model switch meanwhile lets this turn finish on the engine it started on.
        using var lease = await _host.AcquireAsync(cancellationToken);
        var engine = lease.Engine;
        var chat = messages as IReadOnlyList<ChatMessage> ?? [.. messages]; // Read twice: the prompt, then the history to prefill.
        var rendered = engine.Prompts.Render(chat);
        var prompt = R1PromptBuilder.Tokenize(engine.Context, rendered);
        // The scheduler owns the request and frees its sequence; leaving early (cancelled, or the caller
        // stopped reading) only tells it to stop.
        var request = engine.Submit(prompt, options, cancellationToken);
        using var abandon = new AbandonOnExit(request);
        var responseId = Guid.NewGuid().ToString("N");
        var answer = new System.Text.StringBuilder();
        await foreach (var generated in request.Output.Reader.ReadAllAsync(cancellationToken))
        {
            switch (generated)
            {
                case GenerationEvent.FirstToken:
                    yield return new ChatResponseUpdate { Role = ChatRole.Assistant, ResponseId = responseId, ModelId = engine.ModelId };
                    break;
                case GenerationEvent.Text text:
                    answer.Append(text.Value);
                    yield return new ChatResponseUpdate(ChatRole.Assistant, text.Value) { ResponseId = responseId, ModelId = engine.ModelId };
                    break;
                case GenerationEvent.Finished finished:
                    if (options?.ConversationId is { } conversation && engine.PrefillAnswers)
                    {
                        // The next prompt starts with this chat plus the answer (its reasoning cut): decode that
                        // now, while the user reads, so the next message prefills only itself.
                        var history = engine.Prompts.RenderHistory([.. chat, new ChatMessage(ChatRole.Assistant, answer.ToString())]);
                        engine.TryPrefillAhead(R1PromptBuilder.Tokenize(engine.Context, history), conversation);
                    }

                    yield return new ChatResponseUpdate(ChatRole.Assistant, [new UsageContent(new UsageDetails
                    {
                        InputTokenCount = finished.PromptTokens,
                        OutputTokenCount = finished.CompletionTokens,
                        TotalTokenCount = finished.PromptTokens + finished.CompletionTokens,
                        CachedInputTokenCount = finished.CachedTokens,
                    })])
                    {
                        ResponseId = responseId,
                        ModelId = engine.ModelId,
                        FinishReason = finished.Reason,
                    };
                    break;
            }
        }
    }

    public object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceKey is null && serviceType == typeof(ChatClientMetadata) ? new ChatClientMetadata("llama.cpp", null, _host.ModelId)
        : serviceKey is null && serviceType.IsInstanceOfType(this) ? this
        : null;

    public void Dispose()
    {
        // The engine belongs to the host, which disposes it.
    }

    private readonly struct AbandonOnExit(GenerationRequest request) : IDisposable
    {
        public void Dispose() => request.Cancelled = true;
    }
}
