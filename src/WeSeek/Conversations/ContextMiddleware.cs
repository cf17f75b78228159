using System.Globalization;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WeSeek.Inference;
using WeSeek.Logging;
using WeSeek.Media;
using WeSeek.Pipeline;
using WeSeek.Plugins;

namespace WeSeek.Conversations;

/// <summary>
/// Loads the conversation's window, compacts it when the next prompt would not fit (an epoch), and renders
/// the prompt: persona (at the top of the window's first user turn, or as a system message), history, and
/// the new message with volatile facts (the time) appended to it, never to the persona. Passages from plugins
/// (<see cref="PluginFeature"/>) follow the message as a 参考资料 block in this prompt only. Reasoning is never
/// part of history. A question asked in a group carries the group's recent messages (<see cref="GroupWindow"/>)
/// as a 群聊最近消息 block in front of it, in this prompt only: history keeps the question alone.
/// </summary>
internal sealed partial class ContextMiddleware : ITurnMiddleware
{
    /// <summary>The answer to a message longer than the window (Context:MaxTokens): its tokens, the limit.</summary>
    private static readonly System.Text.CompositeFormat TooLongReply =
        System.Text.CompositeFormat.Parse("这条消息太长了（约 {0} 个 token，一条消息最多约 {1} 个），我没法一次读完。请缩短，或分几次发送。");

    private readonly IConversationStore _store;
    private readonly GroupWindow _group;
    private readonly ITokenCounter _tokens;
    private readonly ContextOptions _options;
    private readonly ModelOptions _model;
    private readonly TimeProvider _time;
    private readonly ILogger<ContextMiddleware> _logger;

    public ContextMiddleware(IConversationStore store, GroupWindow group, ITokenCounter tokens, IOptionsSnapshot<ContextOptions> options, IOptionsSnapshot<ModelOptions> model, TimeProvider time, ILogger<ContextMiddleware> logger)
    {
        _store = store;
        _group = group;
        _tokens = tokens;
        _options = options.Value;
        _model = model.Value;
        _time = time;
        _logger = logger;
    }

    public async Task InvokeAsync(Turn turn, TurnDelegate next)
    {
        ArgumentNullException.ThrowIfNull(turn);
        ArgumentNullException.ThrowIfNull(next);
        var state = await _store.LoadAsync(turn.ConversationKey, turn.Aborted);
        // With images described (ImageDescriptionFeature) the question carries their 图片描述 lines, in history too.
        var userContent = RenderUserMessage(turn.Features.Get<ImageDescriptionFeature>()?.UserText ?? turn.Message.Text);
        var userTokens = _tokens.Count(userContent);
        var personaTokens = _tokens.Count(_options.Persona);
        if (personaTokens + userTokens > _options.MaxTokens)
        {
            // The message alone does not fit the conversation's window, so no model call or retry can answer
            // it: say so at once, store nothing in history, and let the user shorten it.
            Log.TooLong(_logger, turn.InboxId, userTokens, _options.MaxTokens - personaTokens);
            turn.Replies.Add(string.Format(CultureInfo.InvariantCulture, TooLongReply, userTokens, Math.Max(0, _options.MaxTokens - personaTokens)));
            return;
        }

        // Plugins' passages go into this prompt only; history keeps the message without them.
        var references = turn.Features.Get<PluginFeature>()?.RenderReferences() ?? "";
        var referenceTokens = references.Length == 0 ? 0 : _tokens.Count(references);
        var groupLines = await _group.ReadAsync(turn.Message, turn.InboxId, turn.ConversationKey, turn.Aborted);
        var groupBlock = groupLines.Count == 0 ? "" : GroupWindow.Render(groupLines, Math.Min(_options.GroupWindowMaxTokens, _options.MaxTokens / 2), _tokens);
        var groupTokens = groupBlock.Length == 0 ? 0 : _tokens.Count(groupBlock);
        var (window, newStart) = ContextWindow.Plan(state.Window, personaTokens, userTokens + referenceTokens + groupTokens, _options);
        if (newStart is long start)
        {
            await _store.SetWindowAsync(turn.ConversationKey, start, state.Epoch + 1, turn.Aborted);
            Log.Compacted(_logger, state.Window.Count - window.Count, state.Epoch + 1);
        }

        var prompt = references.Length == 0 ? userContent : userContent + "\n\n" + references;
        var messages = Render(_options.Persona, _model.PersonaPlacement, window, groupBlock.Length == 0 ? prompt : groupBlock + "\n\n" + prompt);
        var feature = new ConversationFeature(turn.ConversationKey, messages, userContent, userTokens, state.ShowThinking);
        turn.Features.Set(feature);
        await next(turn);
    }

    /// <summary>The prompt for a window and a new message. Deterministic: same inputs, same bytes.</summary>
    internal static List<ChatMessage> Render(string persona, PersonaPlacement placement, IReadOnlyList<HistoryEntry> window, string userContent)
    {
        var messages = new List<ChatMessage>(window.Count + 2);
        var personaPending = !string.IsNullOrWhiteSpace(persona);
        if (personaPending && placement == PersonaPlacement.System)
        {
            messages.Add(new ChatMessage(ChatRole.System, persona));
            personaPending = false;
        }

        foreach (var entry in window)
        {
            var role = entry.Role == "user" ? ChatRole.User : ChatRole.Assistant;
            var content = entry.Content;
            if (personaPending && role == ChatRole.User)
            {
                content = persona + "\n\n" + content;
                personaPending = false;
            }

            messages.Add(new ChatMessage(role, content));
        }

        messages.Add(new ChatMessage(ChatRole.User, personaPending ? persona + "\n\n" + userContent : userContent));
        return messages;
    }

    private string RenderUserMessage(string text)
    {
        if (!_options.IncludeCurrentTime)
        {
            return text;
        }

        var now = TimeZoneInfo.ConvertTime(_time.GetUtcNow(), TimeZones.Find(_options.TimeZone));
        return string.Create(CultureInfo.InvariantCulture, $"{text}\n\n（当前时间：{now:yyyy-MM-dd HH:mm} {ChineseDay(now.DayOfWeek)}）");
    }

    private static string ChineseDay(DayOfWeek day) => day switch
    {
        DayOfWeek.Monday => "星期一",
        DayOfWeek.Tuesday => "星期二",
        DayOfWeek.Wednesday => "星期三",
        DayOfWeek.Thursday => "星期四",
        DayOfWeek.Friday => "星期五",
        DayOfWeek.Saturday => "星期六",
        _ => "星期日",
    };

    private static partial class Log
    {
        [LoggerMessage(WeSeekEventId.ContextCompacted, LogLevel.Information, "Context compacted: dropped {Dropped} messages, epoch {Epoch}")]
        public static partial void Compacted(ILogger logger, int dropped, int epoch);

        [LoggerMessage(WeSeekEventId.MessageTooLong, LogLevel.Warning, "Message {InboxId} is {Tokens} tokens, more than the {Limit} a message may have in the window (Context:MaxTokens); answered without the model")]
        public static partial void TooLong(ILogger logger, long inboxId, int tokens, int limit);
    }
}
