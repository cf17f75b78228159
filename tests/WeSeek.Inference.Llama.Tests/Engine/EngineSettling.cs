using WeSeek.Inference.Llama.Engine;

namespace WeSeek.Inference.Llama.Tests.Engine;

/// <summary>
/// A response returns when its last token is out, before the engine retires the request into the kept caches
/// and prefills the answer ahead. Tests that assert which caches are kept wait for that to settle first.
/// </summary>
internal static class EngineSettling
{
    public static async Task UntilIdleAsync(this LlamaEngine engine, CancellationToken cancellationToken)
    {
        for (var i = 0; i < 400 && !engine.IsIdle; i++)
        {
            await Task.Delay(25, cancellationToken);
        }

        Assert.True(engine.IsIdle, "the engine did not settle within 10 s");
    }
}
