using Microsoft.Extensions.Options;
using WeSeek.Pipeline;
using WeSeek.Plugins;

namespace WeSeek.Intents;

/// <summary>The intent recognised for a turn, and the plugin it routes to (null: every plugin on in the chat).</summary>
/// <param name="Intent">The intent and its slots.</param>
/// <param name="Plugin">The plugin configured for the intent, if any.</param>
public sealed record IntentFeature(TurnIntent Intent, string? Plugin);

/// <summary>
/// Recognises the turn's intent after commands have had their turn (a command never reaches here) and before
/// plugins run, which see it as <see cref="PluginContext.Intent"/>. An intent with a plugin routes the turn to
/// that plugin alone. Nothing recognised: plain chat, as without intents.
/// </summary>
internal sealed class IntentMiddleware : ITurnMiddleware
{
    private readonly IntentRecognizer _recognizer;
    private readonly IntentOptions _options;

    public IntentMiddleware(IntentRecognizer recognizer, IOptions<IntentOptions> options)
    {
        _recognizer = recognizer;
        _options = options.Value;
    }

    public async Task InvokeAsync(Turn turn, TurnDelegate next)
    {
        ArgumentNullException.ThrowIfNull(turn);
        ArgumentNullException.ThrowIfNull(next);
        if (_recognizer.Enabled && await _recognizer.RecognizeAsync(turn.Message.Text, turn.Aborted) is { } intent)
        {
            turn.Features.Set(new IntentFeature(intent, _options.Items[intent.Name].Plugin));
        }

        await next(turn);
    }
}
