using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WeSeek.Logging;
using WeSeek.Operations;
using WeSeek.Pipeline;

namespace WeSeek.Plugins;

/// <summary>
/// Runs the plugins that are on in the turn's chat, concurrently, each under <c>Plugins:Timeout</c>. A plugin
/// that throws or runs out of time is logged, counted (<c>weseek.plugins.failures</c>) and left out; the turn
/// goes on with the others. The first direct answer (in registration order) is the reply and the model is not
/// asked; otherwise the passages and citations go into the turn as <see cref="PluginFeature"/> for the context
/// and composer steps.
/// </summary>
internal sealed partial class PluginMiddleware : ITurnMiddleware
{
    private readonly PluginCatalog _catalog;
    private readonly IPluginSettingsStore _settings;
    private readonly PluginOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<PluginMiddleware> _logger;
    private readonly WeSeekMetrics _metrics;

    public PluginMiddleware(PluginCatalog catalog, IPluginSettingsStore settings, IOptionsSnapshot<PluginOptions> options, TimeProvider time, ILogger<PluginMiddleware> logger, WeSeekMetrics metrics)
    {
        _metrics = metrics;
        _catalog = catalog;
        _settings = settings;
        _options = options.Value;
        _time = time;
        _logger = logger;
    }

    public async Task InvokeAsync(Turn turn, TurnDelegate next)
    {
        ArgumentNullException.ThrowIfNull(turn);
        ArgumentNullException.ThrowIfNull(next);
        if (_catalog.Plugins.Count == 0 || string.IsNullOrWhiteSpace(turn.Message.Text))
        {
            await next(turn);
            return;
        }

        var states = await _settings.GetAsync(IPluginSettingsStore.ChatKey(turn.Message), _catalog.Plugins, turn.Aborted);
        var intent = turn.Features.Get<Intents.IntentFeature>();
        var enabled = _catalog.Plugins
            .Where(p => states[p.Name])
            .Where(p => intent?.Plugin is not { } routed || string.Equals(p.Name, routed, StringComparison.OrdinalIgnoreCase))
            .ToList();
        var context = new PluginContext(turn.Message, turn.ConversationKey) { Intent = intent?.Intent };
        if (enabled.SelectMany(p => p.Tools).ToList() is { Count: > 0 } tools)
        {
            // Offered to the model only with Model:ToolCalling (the model step decides).
            turn.Features.Set(new PluginToolsFeature(tools));
        }

        var results = await Task.WhenAll(enabled.Select(p => RunAsync(p, context, turn)));

        for (var i = 0; i < enabled.Count; i++)
        {
            if (results[i]?.Answer is { Length: > 0 } answer)
            {
                Log.Answered(_logger, enabled[i].Name, turn.InboxId);
                turn.Replies.Add(answer);
                return;
            }
        }

        var passages = results.Where(r => r is not null).SelectMany(r => r!.Passages).Take(_options.MaxPassages).ToList();
        var citations = results.Where(r => r is not null).SelectMany(r => r!.Citations).Distinct(StringComparer.Ordinal).ToList();
        if (passages.Count > 0 || citations.Count > 0)
        {
            Log.Contributed(_logger, passages.Count, citations.Count, turn.InboxId);
            turn.Features.Set(new PluginFeature(passages, citations));
        }

        await WithPluginSteps(enabled, next)(turn);
    }

    /// <summary>The enabled plugins' own steps around the rest of the pipeline, each contained: one that throws
    /// before going on is skipped; what the rest of the pipeline throws is not theirs and goes on up.</summary>
    private TurnDelegate WithPluginSteps(List<IWeSeekPlugin> enabled, TurnDelegate next)
    {
        var inner = next;
        foreach (var (plugin, step) in enabled.SelectMany(p => p.Middlewares.Select(m => (Plugin: p, Step: m))).Reverse())
        {
            var following = inner;
            inner = async turn =>
            {
                var wentOn = false;
                var innerFailed = false;
                try
                {
                    await step.InvokeAsync(turn, async t =>
                    {
                        wentOn = true;
                        try
                        {
                            await following(t);
                        }
                        catch
                        {
                            innerFailed = true;
                            throw;
                        }
                    });
                }
                catch (Exception ex) when (!innerFailed && !turn.Aborted.IsCancellationRequested)
                {
                    Log.Failed(_logger, ex, plugin.Name, turn.InboxId);
                    _metrics.PluginFailures.Add(1, new("plugin", plugin.Name), new("reason", "error"));
                    if (!wentOn)
                    {
                        await following(turn);
                    }
                }
            };
        }

        return inner;
    }

    private async Task<PluginResult?> RunAsync(IWeSeekPlugin plugin, PluginContext context, Turn turn)
    {
        var result = await PluginCall.RunAsync(plugin.Name, ct => plugin.TryHandleAsync(context, ct), _options.Timeout, _time, _metrics, turn.Aborted);
        switch (result.Failure)
        {
            case "timeout":
                Log.TimedOut(_logger, plugin.Name, _options.Timeout, turn.InboxId);
                break;
            case "error":
                Log.Failed(_logger, result.Error!, plugin.Name, turn.InboxId);
                break;
        }

        return result.Value;
    }

    private static partial class Log
    {
        [LoggerMessage(WeSeekEventId.PluginFailed, LogLevel.Error, "Plugin {Plugin} failed on message {InboxId}; the turn goes on without it")]
        public static partial void Failed(ILogger logger, Exception exception, string plugin, long inboxId);

        [LoggerMessage(WeSeekEventId.PluginTimedOut, LogLevel.Warning, "Plugin {Plugin} did not finish within {Timeout} on message {InboxId}; the turn goes on without it")]
        public static partial void TimedOut(ILogger logger, string plugin, TimeSpan timeout, long inboxId);

        [LoggerMessage(WeSeekEventId.PluginAnswered, LogLevel.Debug, "Plugin {Plugin} answered message {InboxId}")]
        public static partial void Answered(ILogger logger, string plugin, long inboxId);

        [LoggerMessage(WeSeekEventId.PluginContributed, LogLevel.Debug, "Plugins contributed {Passages} passages and {Citations} citations to message {InboxId}")]
        public static partial void Contributed(ILogger logger, int passages, int citations, long inboxId);
    }
}
