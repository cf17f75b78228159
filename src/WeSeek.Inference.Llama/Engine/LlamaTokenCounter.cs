using WeSeek.Conversations;

namespace WeSeek.Inference.Llama.Engine;

/// <summary>
/// Exact token counts from the loaded model's tokenizer, so context windows are measured in the tokens the
/// engine will actually spend; the conservative estimate stands in until the model has loaded.
/// </summary>
internal sealed class LlamaTokenCounter(LlamaEngineHost host) : ITokenCounter
{
    private readonly EstimatingTokenCounter _estimate = new();

    public int Count(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        // Held while it counts: a model switch must not dispose the tokenizer underneath.
        using var lease = host.TryAcquire();
        return lease is not null
            ? lease.Engine.Context.Tokenize(text, addBos: false, special: true).Length
            : _estimate.Count(text);
    }
}
