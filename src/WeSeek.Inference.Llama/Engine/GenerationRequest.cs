using System.Text;
using System.Threading.Channels;
using LLama;
using LLama.Batched;
using LLama.Native;
using LLama.Sampling;
using Microsoft.Extensions.AI;

namespace WeSeek.Inference.Llama.Engine;

/// <summary>What the scheduler streams back for one request.</summary>
internal abstract record GenerationEvent
{
    public sealed record Text(string Value) : GenerationEvent;

    /// <summary>The first token is sampled (its text may still be held back as partial UTF-8 or a possible stop).</summary>
    public sealed record FirstToken : GenerationEvent;

    public sealed record Finished(ChatFinishReason Reason, int PromptTokens, int CompletionTokens, int CachedTokens) : GenerationEvent;
}

/// <summary>
/// One generation, owned by the scheduler thread once submitted: only the scheduler disposes it. The output channel is unbounded, but a
/// request produces at most <see cref="MaxTokens"/> pieces, so it is bounded by construction.
/// </summary>
internal sealed class GenerationRequest : IDisposable
{
    private readonly StringBuilder _held = new();
    private readonly int _holdBack;
    private readonly CancellationTokenRegistration _registration;

    public GenerationRequest(LLamaToken[] prompt, string? conversationKey, DefaultSamplingPipeline sampler, int maxTokens, IReadOnlyList<string> stopSequences, CancellationToken cancellationToken)
    {
        Prompt = prompt;
        Input = prompt;
        ConversationKey = conversationKey;
        Sampler = sampler;
        MaxTokens = maxTokens;
        StopSequences = stopSequences;
        _holdBack = stopSequences.Count == 0 ? 0 : stopSequences.Max(s => s.Length) - 1;
        _registration = cancellationToken.Register(() => Cancelled = true);
        CancellationToken = cancellationToken;
    }

    public LLamaToken[] Prompt { get; }

    /// <summary>What the sequence must hold before the next token is sampled: the prompt, or after a preemption
    /// the prompt and every token generated so far.</summary>
    public LLamaToken[] Input { get; private set; }

    /// <summary>Under which key the cache of a preempted request is parked until it resumes; null otherwise.</summary>
    public string? ResumeKey { get; private set; }

    /// <summary>Times this request gave its cells to others (<see cref="Preempted"/>).</summary>
    public int Preemptions { get; private set; }

    /// <summary>When the request was last admitted, in scheduler steps; the youngest is preempted first.</summary>
    public long AdmittedAt { get; set; }

    /// <summary>Whose KV cache this request may reuse and leave behind (<c>ChatOptions.ConversationId</c>).</summary>
    public string? ConversationKey { get; }

    /// <summary>Every token fed into <see cref="Conversation"/>, in order: what its KV cache holds.</summary>
    public List<LLamaToken> Fed { get; } = [];

    /// <summary>Prompt tokens found in a kept KV cache, not prefilled again.</summary>
    public int Cached { get; set; }

    /// <summary>When the kept cache this request continues was last used by a message (<see cref="KeptConversation.LastUsed"/>);
    /// null for a fresh sequence.</summary>
    public long? KeptLastUsed { get; set; }

    public DefaultSamplingPipeline Sampler { get; }

    /// <summary>The managed sampler over the logits row, when it serves this request (no grammar); else the
    /// native <see cref="Sampler"/> chain does.</summary>
    public SpanSampler? SpanSampler { get; init; }

    /// <summary>True while its sequence selects its top-k candidates in the decode graph
    /// (<c>Model:Llama:Sampler=backend</c>): its <see cref="SpanSampler"/> draws from them, not from the logits row.</summary>
    public bool DrawsOnBackend { get; set; }

    public int MaxTokens { get; }

    /// <summary>A request that only extends its conversation's KV cache (the answer just given, ahead of the
    /// next message) and generates nothing; it finishes when its prompt is decoded.</summary>
    public bool PrefillOnly { get; init; }

    public IReadOnlyList<string> StopSequences { get; }

    /// <summary>For an answer prefilled ahead: not admitted before this <see cref="System.Diagnostics.Stopwatch"/> timestamp.</summary>
    public long NotBefore { get; init; }

    public CancellationToken CancellationToken { get; }

    public Channel<GenerationEvent> Output { get; } = Channel.CreateUnbounded<GenerationEvent>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });

    public volatile bool Cancelled;

    /// <summary>The request's sequence, once admitted.</summary>
    public Conversation? Conversation { get; set; }

    public StreamingTokenDecoder? Decoder { get; set; }

    /// <summary>Prompt tokens already queued for decoding.</summary>
    public int Prefilled { get; set; }

    public int Generated { get; set; }

    public bool InPrefill => Prefilled < Input.Length;

    /// <summary>True once it has tokens the scheduler generated (not only prompt); false while it prefills.</summary>
    public bool Generating => !PrefillOnly && !InPrefill;

    /// <summary>
    /// The request gave up its sequence so that others could go on (<paramref name="resumeKey"/> names where its
    /// cache is parked, if it could be): everything fed so far becomes the input it resumes from. The sampler, the
    /// text decoder and the count of generated tokens stay, so the output goes on where it stopped.
    /// </summary>
    public void Preempted(string resumeKey)
    {
        if (!InPrefill)
        {
            Input = [.. Fed]; // While prefilling, what was fed is a prefix of the input, which stays.
        }

        Fed.Clear();
        Prefilled = 0;
        Conversation = null;
        ResumeKey = resumeKey;
        Preemptions++;
    }

    /// <summary>The parked cache was found (or is gone): the next preemption parks under a new key.</summary>
    public void Resumed() => ResumeKey = null;

    /// <summary>Adds decoded text; returns true when a stop sequence ended the generation.</summary>
    public bool Append(string text)
    {
        _held.Append(text);
        var held = _held.ToString();
        foreach (var stop in StopSequences)
        {
            var at = held.IndexOf(stop, StringComparison.Ordinal);
            if (at >= 0)
            {
                Emit(held[..at]);
                _held.Clear();
                return true;
            }
        }

        // Hold back what could still become a stop sequence.
        var release = held.Length - _holdBack;
        if (release > 0)
        {
            Emit(held[..release]);
            _held.Remove(0, release);
        }

        return false;
    }

    /// <summary>True once the request finished or failed; its sequence may then be freed.</summary>
    public bool Finished { get; private set; }

    /// <summary>True when the request ended normally (not failed or cancelled).</summary>
    public bool Succeeded { get; private set; }

    /// <summary>Tells the reader that the first token is sampled, once.</summary>
    public void FirstTokenSampled()
    {
        if (Generated == 1 && Preemptions == 0)
        {
            Output.Writer.TryWrite(new GenerationEvent.FirstToken());
        }
    }

    public void Finish(ChatFinishReason reason)
    {
        Finished = true;
        Succeeded = true;
        Emit(_held.ToString());
        _held.Clear();
        Output.Writer.TryWrite(new GenerationEvent.Finished(reason, Prompt.Length, Generated, Cached));
        Output.Writer.TryComplete();
    }

    public void Fail(Exception exception)
    {
        Finished = true;
        Output.Writer.TryComplete(exception);
    }

    private void Emit(string text)
    {
        if (text.Length > 0)
        {
            Output.Writer.TryWrite(new GenerationEvent.Text(text));
        }
    }

    public void Dispose()
    {
        _registration.Dispose();
        Conversation?.Dispose();
        Conversation = null;
        Sampler.Dispose();
    }
}
