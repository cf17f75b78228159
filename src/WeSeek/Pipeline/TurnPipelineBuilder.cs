using Microsoft.Extensions.DependencyInjection;

namespace WeSeek.Pipeline;

/// <summary>
/// Composes <see cref="ITurnMiddleware"/>s into one <see cref="TurnDelegate"/>. The first <c>Use</c> is the
/// outermost step, as in ASP.NET Core's ApplicationBuilder and M.E.AI's ChatClientBuilder. Middlewares given
/// by type are resolved from the turn's scope on every turn.
/// </summary>
public sealed class TurnPipelineBuilder
{
    private readonly List<Func<TurnDelegate, TurnDelegate>> _components = [];

    /// <summary>Adds a step given as a function of the rest of the pipeline.</summary>
    public TurnPipelineBuilder Use(Func<TurnDelegate, TurnDelegate> middleware)
    {
        ArgumentNullException.ThrowIfNull(middleware);
        _components.Add(middleware);
        return this;
    }

    /// <summary>Adds a step resolved from the turn's services; register it in DI.</summary>
    public TurnPipelineBuilder Use<TMiddleware>() where TMiddleware : ITurnMiddleware =>
        Use(next => turn => turn.Services.GetRequiredService<TMiddleware>().InvokeAsync(turn, next));

    /// <summary>The middleware types and functions added so far, for diagnostics.</summary>
    public int Count => _components.Count;

    /// <summary>Builds the pipeline. The innermost step's <c>next</c> does nothing: reaching it is normal.</summary>
    public TurnDelegate Build()
    {
        TurnDelegate pipeline = static _ => Task.CompletedTask;
        for (var i = _components.Count - 1; i >= 0; i--)
        {
            pipeline = _components[i](pipeline);
        }

        return pipeline;
    }
}
