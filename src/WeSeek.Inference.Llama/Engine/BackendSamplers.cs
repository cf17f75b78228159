using System.Reflection;
using System.Runtime.InteropServices;
using LLama.Batched;
using LLama.Native;

namespace WeSeek.Inference.Llama.Engine;

/// <summary>
/// Draws tokens inside <c>llama_decode</c> (llama.cpp's backend sampler chains, one per sequence id): top-k, top-p,
/// temperature and a seeded draw run as part of the decode graph, on the GPU when the output layer is there, and
/// only the token ids come back. With 64 conversations on an H200 the managed sampler spent 13.9 ms of an 18.7 ms
/// step reading and scanning 64 logits rows of 152,064 floats on the CPU while the GPU waited.
/// <para>
/// Written by hand because LLamaSharp 0.30 binds neither <c>llama_set_sampler</c> nor
/// <c>llama_get_sampled_token_ith</c>: both are taken from the llama.cpp library LLamaSharp loaded (its handle is not
/// public, so it is read by reflection; when that fails the engine keeps the managed sampler and says so).
/// </para>
/// A chain belongs to a sequence id; setting or clearing one makes llama.cpp re-reserve its graph at the next decode,
/// so chains are kept while the settings of the requests on that id stay the same (the product sends the same
/// temperature and top-p on every turn). Used from the scheduler thread only.
/// </summary>
internal sealed unsafe class BackendSamplers : IDisposable
{
    private readonly SafeLLamaContextHandle _context;
    private readonly delegate* unmanaged[Cdecl]<IntPtr, int, IntPtr, byte> _setSampler;
    private readonly delegate* unmanaged[Cdecl]<IntPtr, int, int> _sampledToken;
    private readonly Dictionary<int, (Settings Settings, SafeLLamaSamplerChainHandle Chain)> _chains = [];

    private BackendSamplers(SafeLLamaContextHandle context, IntPtr setSampler, IntPtr sampledToken)
    {
        _context = context;
        _setSampler = (delegate* unmanaged[Cdecl]<IntPtr, int, IntPtr, byte>)setSampler;
        _sampledToken = (delegate* unmanaged[Cdecl]<IntPtr, int, int>)sampledToken;
    }

    /// <summary>
    /// Most sequences that draw in the decode at once; the others sample on the CPU. llama.cpp 815a2a591 sizes its
    /// graph for the model's tensors (at least 1,024 nodes, 8 per tensor) without counting the sampler chains' nodes:
    /// on the synthesised 0.5B, 32 chains ran and 48 aborted the process (<c>GGML_ASSERT(obj_new)</c> in ggml.c), as
    /// 64 did for r1-7b on the H200. 16 leaves room on every model the project runs.
    /// </summary>
    public const int MaxChains = 16;

    /// <summary>llama.cpp's LLAMA_DEFAULT_SEED: a random seed, for requests that name none.</summary>
    public const uint DefaultSeed = uint.MaxValue;

    /// <summary>The settings a chain is built from; a request whose settings differ gets a new chain.</summary>
    internal readonly record struct Settings(float Temperature, int TopK, float TopP, uint Seed);

    /// <summary>Binds to the loaded llama.cpp library; null (with the reason) when it has no backend sampling.</summary>
    public static BackendSamplers? TryCreate(SafeLLamaContextHandle context, out string? problem)
    {
        var library = typeof(NativeApi).GetField("_loadedLlamaHandle", BindingFlags.NonPublic | BindingFlags.Static)?.GetValue(null) as IntPtr? ?? IntPtr.Zero;
        if (library == IntPtr.Zero)
        {
            problem = "the handle of the llama.cpp library LLamaSharp loaded could not be found";
            return null;
        }

        if (!NativeLibrary.TryGetExport(library, "llama_set_sampler", out var setSampler)
            || !NativeLibrary.TryGetExport(library, "llama_get_sampled_token_ith", out var sampledToken))
        {
            problem = "the llama.cpp library has no backend sampling (llama_set_sampler)";
            return null;
        }

        problem = null;
        return new BackendSamplers(context, setSampler, sampledToken);
    }

    /// <summary>
    /// Makes <paramref name="conversation"/>'s sequence draw with <paramref name="settings"/> in the decode graph;
    /// false when llama.cpp cannot offload the chain (the caller samples on the CPU instead).
    /// </summary>
    public bool Attach(Conversation conversation, Settings settings)
    {
        var sequence = (int)conversation.ConversationId;
        if (_chains.TryGetValue(sequence, out var current) && current.Settings == settings)
        {
            if (settings.Seed != DefaultSeed)
            {
                // A request's own seed repeats its draws: the chain starts again from it (no new graph needed).
                current.Chain.Reset();
            }

            return true;
        }

        if (current.Chain is null && _chains.Count >= MaxChains && !FreeChainFromIdleSequence(sequence))
        {
            return false;
        }

        var chain = SafeLLamaSamplerChainHandle.Create(LLamaSamplerChainParams.Default());
        chain.AddTopK(settings.TopK);
        chain.AddTopP(settings.TopP, 1);
        chain.AddTemperature(settings.Temperature);
        chain.AddDistributionSampler(settings.Seed);
        if (_setSampler(_context.DangerousGetHandle(), sequence, chain.DangerousGetHandle()) == 0)
        {
            chain.Dispose();
            Detach(conversation);
            return false;
        }

        // llama.cpp holds the pointer: the old chain is freed only once the new one has replaced it.
        current.Chain?.Dispose();
        _chains[sequence] = (settings, chain);
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

    /// <summary>The token the decode drew for <paramref name="conversation"/>'s last output.</summary>
    public LLamaToken Sampled(Conversation conversation)
    {
        var token = _sampledToken(_context.DangerousGetHandle(), conversation.GetSampleIndex());
        if (token < 0)
        {
            throw new InvalidOperationException($"llama.cpp drew no token for sequence {(int)conversation.ConversationId} in the last decode.");
        }

        return (LLamaToken)token;
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
