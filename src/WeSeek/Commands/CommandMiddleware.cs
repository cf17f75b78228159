using Microsoft.Extensions.Logging;
using WeSeek.Conversations;
using WeSeek.Logging;
using WeSeek.Pipeline;

namespace WeSeek.Commands;

/// <summary>
/// Built-in commands, answered without the model: <c>/help</c> (帮助), <c>/reset</c> (重置),
/// <c>/think on|off</c> (显示思考 / 隐藏思考). Anything else goes on. Commands are idempotent, so a turn that
/// runs again after a crash does the same thing again.
/// </summary>
internal sealed partial class CommandMiddleware : ITurnMiddleware
{
    internal const string HelpText = """
        WeSeek 微信助手 — 直接发消息即可提问。
        /help 或 帮助 — 显示本帮助
        /reset 或 重置 — 清空对话上下文，重新开始
        /think on|off — 显示或隐藏思考过程（显示思考 / 隐藏思考）
        """;

    private readonly ConversationStore _store;
    private readonly ILogger<CommandMiddleware> _logger;

    public CommandMiddleware(ConversationStore store, ILogger<CommandMiddleware> logger)
    {
        _store = store;
        _logger = logger;
    }

    public async Task InvokeAsync(Turn turn, TurnDelegate next)
    {
        ArgumentNullException.ThrowIfNull(turn);
        ArgumentNullException.ThrowIfNull(next);
        var command = Parse(turn.Message.Text);
        if (command is null)
        {
            await next(turn);
            return;
        }

        Log.Handled(_logger, command.Value.Name, turn.InboxId);
        switch (command.Value.Name)
        {
            case "help":
                turn.Replies.Add(HelpText);
                break;
            case "reset":
                await _store.ResetAsync(turn.ConversationKey, turn.Aborted);
                turn.Replies.Add("已重置对话，我们重新开始吧。(Context cleared.)");
                break;
            case "think":
                switch (command.Value.Argument)
                {
                    case "on":
                        await _store.SetShowThinkingAsync(turn.ConversationKey, true, turn.Aborted);
                        turn.Replies.Add("好的，之后会先发送思考过程。(Reasoning will be shown.)");
                        break;
                    case "off":
                        await _store.SetShowThinkingAsync(turn.ConversationKey, false, turn.Aborted);
                        turn.Replies.Add("好的，之后只发送答案。(Reasoning hidden.)");
                        break;
                    default:
                        turn.Replies.Add("用法：/think on 或 /think off");
                        break;
                }

                break;
        }
    }

    /// <summary>The command in a message, or null when it is not one. Case and surrounding spaces are
    /// ignored; a full-width slash (／) counts, as Chinese keyboards type it.</summary>
    internal static (string Name, string Argument)? Parse(string text)
    {
        var trimmed = text.Trim();
        switch (trimmed)
        {
            case "帮助":
                return ("help", "");
            case "重置":
                return ("reset", "");
            case "显示思考":
                return ("think", "on");
            case "隐藏思考":
                return ("think", "off");
        }

        if (trimmed.Length < 2 || trimmed[0] is not ('/' or '／'))
        {
            return null;
        }

        var parts = trimmed[1..].Split((char[]?)null, 2, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var name = parts[0].ToLowerInvariant();
        var argument = parts.Length > 1 ? parts[1].ToLowerInvariant() : "";
        return name is "help" or "reset" or "think" ? (name, argument) : null;
    }

    private static partial class Log
    {
        [LoggerMessage(WeSeekEventId.CommandHandled, LogLevel.Debug, "Command /{Command} handled for message {InboxId}")]
        public static partial void Handled(ILogger logger, string command, long inboxId);
    }
}
