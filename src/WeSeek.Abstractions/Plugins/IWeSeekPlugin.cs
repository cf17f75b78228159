using Microsoft.Extensions.AI;
using WeSeek.Pipeline;

namespace WeSeek.Plugins;

/// <summary>
/// A plugin: given a turn's message, it may contribute context passages (with their sources) for the model,
/// or answer the message directly. Registered explicitly by the host (<c>builder.AddPlugin&lt;T&gt;()</c>);
/// enabled by default and switched per chat with <c>/plugins on|off &lt;name&gt;</c>.
/// </summary>
/// <remarks>
/// Plugins of one turn run concurrently, each under a time limit (<c>Plugins:Timeout</c>); one that throws or
/// does not finish in time is logged and counted and the turn goes on without it. Implementations must be
/// thread-safe (one instance serves every chat) and should honour the cancellation token.
/// </remarks>
public interface IWeSeekPlugin
{
    /// <summary>The short name users type in <c>/plugins on &lt;name&gt;</c>: lower case, no spaces, unique.</summary>
    string Name { get; }

    /// <summary>One line for <c>/plugins</c>, in the users' language.</summary>
    string Description { get; }

    /// <summary>
    /// Looks at the message; returns what the plugin contributes, or null (or <see cref="PluginResult.Nothing"/>)
    /// when it has nothing for this message.
    /// </summary>
    Task<PluginResult?> TryHandleAsync(PluginContext context, CancellationToken cancellationToken);

    /// <summary>Commands the plugin adds (<c>/name argument</c>). Default none.</summary>
    IReadOnlyList<PluginCommand> Commands => [];

    /// <summary>
    /// Tools for a model that calls tools natively (<c>Model:ToolCalling</c>; off by default, as DeepSeek-R1
    /// distills call tools unreliably and are served by intents instead). Default none.
    /// </summary>
    IReadOnlyList<AIFunction> Tools => [];

    /// <summary>
    /// Steps the plugin adds to the turn pipeline, run after the plugin step (around context, model and composer)
    /// in chats where the plugin is on, in plugin order. One that throws before calling <c>next</c> is logged and
    /// counted and the turn goes on without it. Default none.
    /// </summary>
    IReadOnlyList<ITurnMiddleware> Middlewares => [];
}
