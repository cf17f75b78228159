using System.Reflection;
using System.Runtime.InteropServices;
using LLama.Batched;
using LLama.Native;

namespace WeSeek.Inference.Llama.Engine;

/// <summary>
/// Selects each sequence's top-k candidates inside <c>llama_decode</c> (llama.cpp's backend sampler chains, one per
/// sequence id), on the GPU when the output layer is there: only k logits and their token ids come back, and the
/// request's <see cref="SpanSampler"/> finishes the draw from them (top-p, temperature, a seeded draw). With 64
/// conversations on an H200 the managed sampler spent 13.9 ms of an 18.7 ms step reading and scanning 64 logits rows
/// of 152,064 floats on the CPU while the GPU waited; when every output of a decode has a chain, llama.cpp copies no
/// logits rows back at all.
/// <para>
/// Only top-k runs in the graph, not the whole chain: llama.cpp 815a2a591 sizes its graph for the model's tensors
/// (max(1,024, 8 per tensor) nodes) without counting the sampler chains' nodes, and a full chain (top-k, top-p,
/// temperature, draw: about 40 nodes) aborted the process (<c>GGML_ASSERT(obj_new)</c>) from 48 sequences on the
/// synthesised 0.5B and at 64 for r1-7b on the H200. Top-k alone is about 5 nodes, so every sequence of a 64-wide
/// batch has one; and since it holds no random state, a chain depends only on k and stays on its sequence from one
/// request to the next (setting or clearing one makes llama.cpp re-reserve its graph at the next decode).
/// </para>
/// Written by hand because LLamaSharp 0.30 binds neither <c>llama_set_sampler</c> nor the
/// <c>llama_get_sampled_*_ith</c> accessors: they are taken from the llama.cpp library LLamaSharp loaded (its handle
/// is not public, so it is read by reflection; when that fails the engine keeps the managed sampler and says so).
/// Used from the scheduler thread only.
/// </summary>
internal sealed unsafe class BackendSamplers : IDisposable
{
    private readonly SafeLLamaContextHandle _context;
    private readonly delegate* unmanaged[Cdecl]<IntPtr, int, IntPtr, byte> _setSampler;
    private readonly delegate* unmanaged[Cdecl]<IntPtr, int, float*> _sampledLogits;
    private readonly delegate* unmanaged[Cdecl]<IntPtr, int, uint> _sampledLogitsCount;
    private readonly delegate* unmanaged[Cdecl]<IntPtr, int, int*> _sampledCandidates;
    private readonly delegate* unmanaged[Cdecl]<IntPtr, int, uint> _sampledCandidatesCount;
    private readonly Dictionary<int, (int TopK, SafeLLamaSamplerChainHandle Chain)> _chains = [];

    private BackendSamplers(SafeLLamaContextHandle context, IntPtr[] exports)
    {
        _context = context;
        _setSampler = (delegate* unmanaged[Cdecl]<IntPtr, int, IntPtr, byte>)exports[0];
        _sampledLogits = (delegate* unmanaged[Cdecl]<IntPtr, int, float*>)exports[1];
        _sampledLogitsCount = (delegate* unmanaged[Cdecl]<IntPtr, int, uint>)exports[2];
        _sampledCandidates = (delegate* unmanaged[Cdecl]<IntPtr, int, int*>)exports[3];
        _sampledCandidatesCount = (delegate* unmanaged[Cdecl]<IntPtr, int, uint>)exports[4];
    }

    /// <summary>
    /// Most sequences with a chain at once; the others sample on the CPU (and then every logits row of their decodes
    /// comes back). 64 top-k chains ran on the synthesised test models and on r1-7b; the engine's GPU default is
    /// at most 64 generating sequences.
    /// </summary>
    public const int MaxChains = 64;

    /// <summary>Binds to the loaded llama.cpp library; null (with the reason) when it has no backend sampling.</summary>
    public static BackendSamplers? TryCreate(SafeLLamaContextHandle context, out string? problem)
    {
        var library = typeof(NativeApi).GetField("_loadedLlamaHandle", BindingFlags.NonPublic | BindingFlags.Static)?.GetValue(null) as IntPtr? ?? IntPtr.Zero;
        if (library == IntPtr.Zero)
        {
            problem = "the handle of the llama.cpp library LLamaSharp loaded could not be found";
            return null;
        }

        string[] names = ["llama_set_sampler", "llama_get_sampled_logits_ith", "llama_get_sampled_logits_count_ith", "llama_get_sampled_candidates_ith", "llama_get_sampled_candidates_count_ith"];
        var exports = new IntPtr[names.Length];
        for (var i = 0; i < names.Length; i++)
        {
            if (!NativeLibrary.TryGetExport(library, names[i], out exports[i]))
            {
                problem = $"the llama.cpp library has no backend sampling ({names[i]})";
                return null;
            }
        }

        problem = null;
        return new BackendSamplers(context, exports);
    }

    /// <summary>
    /// Makes <paramref name="conversation"/>'s sequence select its <paramref name="topK"/> candidates in the decode
    /// graph; false when no chain is free (the caller samples from the raw logits instead).
    /// </summary>
    public bool Attach(Conversation conversation, int topK)
    {
        var sequence = (int)conversation.ConversationId;
        if (_chains.TryGetValue(sequence, out var current) && current.TopK == topK)
        {
            return true;
        }

        if (current.Chain is null && _chains.Count >= MaxChains && !FreeChainFromIdleSequence(sequence))
        {
            return false;
        }

        var chain = SafeLLamaSamplerChainHandle.Create(LLamaSamplerChainParams.Default());
        chain.AddTopK(topK);
        if (_setSampler(_context.DangerousGetHandle(), sequence, chain.DangerousGetHandle()) == 0)
        {
            chain.Dispose();
            Detach(conversation);
            return false;
        }

        // llama.cpp holds the pointer: the old chain is freed only once the new one has replaced it.
        current.Chain?.Dispose();
        _chains[sequence] = (topK, chain);
        return true;
    }

    /// <summary>The sequence ids now drawing for a generating request; the engine sets it before each admission pass
    /// so that chains left on idle sequences can be taken back when the cap is reached.</summary>
    public Func<int, bool>? IsGenerating { get; set; }

    /// <summary>Takes a chain off a sequence that is not generating (a kept or finished conversation's), so that
    /// <paramref name="sequence"/> can have one within <see cref="MaxChains"/>.</summary>
    private bool FreeChainFromIdleSequence(int sequence)
    {
        foreach (var idle in _chains.Keys)
        {
            if (idle != sequence && IsGenerating?.Invoke(idle) != true)
            {
                _setSampler(_context.DangerousGetHandle(), idle, IntPtr.Zero);
                _chains.Remove(idle, out var freed);
                freed.Chain.Dispose();
                return true;
            }
        }

        return false;
    }

    /// <summary>Returns <paramref name="conversation"/>'s sequence to raw logits (a grammar or a greedy request).</summary>
    public void Detach(Conversation conversation)
    {
        var sequence = (int)conversation.ConversationId;
        if (_chains.Remove(sequence, out var current))
        {
            _setSampler(_context.DangerousGetHandle(), sequence, IntPtr.Zero);
            current.Chain.Dispose();
        }
    }

    /// <summary>True when <paramref name="conversation"/>'s sequence draws in the decode graph.</summary>
    public bool IsAttached(Conversation conversation) => _chains.ContainsKey((int)conversation.ConversationId);

    /// <summary>Draws <paramref name="conversation"/>'s token with <paramref name="sampler"/> from the candidates the
    /// last decode selected for its output.</summary>
    public LLamaToken Draw(Conversation conversation, SpanSampler sampler)
    {
        var context = _context.DangerousGetHandle();
        var index = conversation.GetSampleIndex();
        var logits = _sampledLogits(context, index);
        var ids = _sampledCandidates(context, index);
        var count = (int)_sampledLogitsCount(context, index);
        if (logits is null || ids is null || count == 0 || count != (int)_sampledCandidatesCount(context, index))
        {
            throw new InvalidOperationException($"llama.cpp selected no candidates for sequence {(int)conversation.ConversationId} in the last decode.");
        }

        return (LLamaToken)sampler.SampleCandidates(new ReadOnlySpan<int>(ids, count), new ReadOnlySpan<float>(logits, count));
    }

    public void Dispose()
    {
        foreach (var (sequence, (_, chain)) in _chains)
        {
            if (!_context.IsClosed)
            {
                _setSampler(_context.DangerousGetHandle(), sequence, IntPtr.Zero);
            }

            chain.Dispose();
        }

        _chains.Clear();
    }
}
