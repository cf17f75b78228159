namespace WeSeek.Plugins;

/// <summary>
/// A command a plugin adds (<c>/weather 北京</c>): answered by the plugin without the model, listed by
/// <c>/help</c>, run only where the plugin is on, under the same time limit and containment as the plugin.
/// </summary>
/// <param name="Name">What users type after <c>/</c>: lower case, no spaces; built-in commands take precedence.</param>
/// <param name="Description">One line for <c>/help</c>, in the users' language.</param>
/// <param name="Handler">Gets the turn's context and the text after the command; returns the reply.</param>
public sealed record PluginCommand(string Name, string Description, Func<PluginContext, string, CancellationToken, Task<string>> Handler);
