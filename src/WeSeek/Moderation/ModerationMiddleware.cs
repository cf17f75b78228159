using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WeSeek.Logging;
using WeSeek.Operations;
using WeSeek.Pipeline;
using WeSeek.Replies;

namespace WeSeek.Moderation;

/// <summary>
/// Sensitive-word moderation of the message coming in and of every message going out. Placed right inside
/// the outbox step (after the guard): an incoming message is checked before commands, context or the model
/// see it, and everything the inner steps produced — answers, command replies, the pages kept for 「继续」 —
/// is checked before the outbox stores it, so nothing unchecked can be sent. A blocked incoming message
/// gets <see cref="ModerationOptions.BlockedInputReply"/> and no model call; a blocked outgoing message is
/// replaced by <see cref="ModerationOptions.BlockedOutputReply"/>; masked words become ＊. Hits are logged
/// (list, action, never the text) and counted.
/// </summary>
internal sealed partial class ModerationMiddleware : ITurnMiddleware
{
    private readonly WordFilter _filter;
    private readonly ExternalModeration _external;
    private readonly ModerationOptions _options;
    private readonly ILogger<ModerationMiddleware> _logger;
    private readonly Counter<long> _hits;

    public ModerationMiddleware(WordFilter filter, ExternalModeration external, IOptions<ModerationOptions> options, IMeterFactory meters, ILogger<ModerationMiddleware> logger)
    {
        // Created per turn (a scoped step); the factory hands every scope the same meter and instrument.
        _hits = meters.Create(WeSeekMetrics.MeterName).CreateCounter<long>(
            "weseek.moderation.hits", "{hit}", "Word-list matches and service verdicts, by list, action and direction");
        _filter = filter;
        _external = external;
        _options = options.Value;
        _logger = logger;
    }

    public async Task InvokeAsync(Turn turn, TurnDelegate next)
    {
        ArgumentNullException.ThrowIfNull(turn);
        ArgumentNullException.ThrowIfNull(next);
        if (_filter.WordCount == 0 && !_external.Enabled)
        {
            await next(turn);
            return;
        }

        var input = await CheckAsync(turn, turn.Message.Text, "input");
        if (input == ModerationAction.Block)
        {
            turn.Replies.Add(_options.BlockedInputReply);
            return;
        }

        await next(turn);

        for (var i = 0; i < turn.Replies.Count; i++)
        {
            turn.Replies[i] = await RewriteAsync(turn, turn.Replies[i]);
        }

        if (turn.Features.Get<ContinuationFeature>() is { Pages.Count: > 0 } waiting)
        {
            var pages = new List<IReadOnlyList<string>>(waiting.Pages.Count);
            foreach (var page in waiting.Pages)
            {
                var checkedPage = new List<string>(page.Count);
                foreach (var message in page)
                {
                    checkedPage.Add(await RewriteAsync(turn, message));
                }

                pages.Add(checkedPage);
            }

            turn.Features.Set(new ContinuationFeature(pages));
        }
    }

    private async Task<string> RewriteAsync(Turn turn, string text)
    {
        var verdict = _filter.Check(text);
        Record(turn, verdict, "output");
        if (verdict.Action == ModerationAction.Block || await _external.BlocksAsync(verdict.Text, "output", turn.Aborted) && Counted(turn, "output"))
        {
            return _options.BlockedOutputReply;
        }

        return verdict.Text;
    }

    private async Task<ModerationAction?> CheckAsync(Turn turn, string text, string direction)
    {
        var verdict = _filter.Check(text);
        Record(turn, verdict, direction);
        if (verdict.Action != ModerationAction.Block && await _external.BlocksAsync(text, direction, turn.Aborted))
        {
            Counted(turn, direction);
            return ModerationAction.Block;
        }

        return verdict.Action;
    }

    private void Record(Turn turn, ModerationVerdict verdict, string direction)
    {
        foreach (var group in verdict.Hits.GroupBy(h => (h.List, h.Action)))
        {
            _hits.Add(group.Count(), new("list", group.Key.List), new("action", group.Key.Action.ToString().ToLowerInvariant()), new("direction", direction));
            Log.Hit(_logger, turn.InboxId, direction, group.Key.List, group.Key.Action, group.Count());
        }
    }

    private bool Counted(Turn turn, string direction)
    {
        _hits.Add(1, new("list", "external"), new("action", "block"), new("direction", direction));
        Log.Hit(_logger, turn.InboxId, direction, "external", ModerationAction.Block, 1);
        return true;
    }

    private static partial class Log
    {
        [LoggerMessage(WeSeekEventId.ModerationHit, LogLevel.Information, "Message {InboxId} ({Direction}): {Count} match(es) of list {List}, action {Action}")]
        public static partial void Hit(ILogger logger, long inboxId, string direction, string list, ModerationAction action, int count);
    }
}
