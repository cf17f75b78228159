using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WeSeek.Conversations;
using WeSeek.Logging;
using WeSeek.Operations;
using WeSeek.Pipeline;
using WeSeek.Plugins;

namespace WeSeek.Commands;

/// <summary>
/// Built-in commands, answered without the model: <c>/help</c> (帮助), <c>/reset</c> (重置),
/// <c>/think on|off</c> (显示思考 / 隐藏思考), <c>/plugins</c> and <c>/plugins on|off &lt;name&gt;</c> (插件, per chat).
/// Anything else goes on. Commands are idempotent, so a turn that
/// runs again after a crash does the same thing again.
/// </summary>
internal sealed partial class CommandMiddleware : ITurnMiddleware
{
    internal const string HelpText = """
        WeSeek 微信助手 — 直接发消息即可提问。
        /help 或 帮助 — 显示本帮助
        /reset 或 重置 — 清空对话上下文，重新开始
        /think on|off — 显示或隐藏思考过程（显示思考 / 隐藏思考）
        /plugins — 查看插件；/plugins on|off 名称 — 在本聊天中开启或关闭插件
        👍 或 👎 — 评价刚才的回答；/差评 更好的回答 — 告诉我应该怎么答
        """;

    private readonly IConversationStore _store;
    private readonly PluginCatalog _plugins;
    private readonly IPluginSettingsStore _pluginSettings;
    private readonly ILogger<CommandMiddleware> _logger;

    private readonly PluginOptions _pluginOptions;
    private readonly TimeProvider _time;
    private readonly WeSeekMetrics _metrics;

    public CommandMiddleware(IConversationStore store, PluginCatalog plugins, IPluginSettingsStore pluginSettings, IOptions<PluginOptions> pluginOptions, TimeProvider time, ILogger<CommandMiddleware> logger, WeSeekMetrics metrics)
    {
        _metrics = metrics;
        _store = store;
        _plugins = plugins;
        _pluginSettings = pluginSettings;
        _pluginOptions = pluginOptions.Value;
        _time = time;
        _logger = logger;
    }

    public async Task InvokeAsync(Turn turn, TurnDelegate next)
    {
        ArgumentNullException.ThrowIfNull(turn);
        ArgumentNullException.ThrowIfNull(next);
        var command = Parse(turn.Message.Text);
        if (command is null)
        {
            if (FindPluginCommand(turn.Message.Text) is { } contributed && await RunPluginCommandAsync(turn, contributed.Plugin, contributed.Command, contributed.Argument))
            {
                return;
            }

            await next(turn);
            return;
        }

        Log.Handled(_logger, command.Value.Name, turn.InboxId);
        switch (command.Value.Name)
        {
            case "help":
                var contributed = _plugins.Plugins.SelectMany(p => p.Commands).Select(c => $"/{c.Name} — {c.Description}").ToList();
                turn.Replies.Add(contributed.Count == 0 ? HelpText : HelpText.TrimEnd() + "\n" + string.Join('\n', contributed));
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
            case "plugins":
                turn.Replies.Add(await PluginsAsync(turn, command.Value.Argument));
                break;
        }
    }

    private async Task<string> PluginsAsync(Turn turn, string argument)
    {
        var chat = IPluginSettingsStore.ChatKey(turn.Message);
        var parts = argument.Split((char[]?)null, 2, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (parts.Length == 0)
        {
            if (_plugins.Plugins.Count == 0)
            {
                return "没有安装插件。(No plugins.)";
            }

            var states = await _pluginSettings.GetAsync(chat, _plugins.Plugins, turn.Aborted);
            var lines = _plugins.Plugins.Select(p => $"{(states[p.Name] ? "✅ 开" : "⛔ 关")} {p.Name} — {p.Description}");
            return "插件（本聊天）：\n" + string.Join('\n', lines) + "\n用法：/plugins on 名称 或 /plugins off 名称";
        }

        if (parts.Length != 2 || parts[0] is not ("on" or "off"))
        {
            return "用法：/plugins、/plugins on 名称、/plugins off 名称";
        }

        if (_plugins.Find(parts[1]) is not { } plugin)
        {
            return $"没有名为 {parts[1]} 的插件。发送 /plugins 查看全部。";
        }

        var enable = parts[0] == "on";
        await _pluginSettings.SetAsync(chat, plugin.Name, enable, turn.Aborted);
        Log.PluginToggled(_logger, plugin.Name, enable, turn.InboxId);
        return enable ? $"已在本聊天开启插件 {plugin.Name}。" : $"已在本聊天关闭插件 {plugin.Name}。";
    }

    /// <summary>A plugin's command in a message (<c>/name argument</c>; the argument keeps its case), or null.</summary>
    private (IWeSeekPlugin Plugin, PluginCommand Command, string Argument)? FindPluginCommand(string text)
    {
        var trimmed = text.Trim();
        if (trimmed.Length < 2 || trimmed[0] is not ('/' or '／') || _plugins.Plugins.Count == 0)
        {
            return null;
        }

        var parts = trimmed[1..].Split((char[]?)null, 2, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        foreach (var plugin in _plugins.Plugins)
        {
            if (plugin.Commands.FirstOrDefault(c => string.Equals(c.Name, parts[0], StringComparison.OrdinalIgnoreCase)) is { } command)
            {
                return (plugin, command, parts.Length > 1 ? parts[1] : "");
            }
        }

        return null;
    }

    /// <summary>Runs a plugin's command where the plugin is on (false otherwise: the message goes on), under
    /// the plugin time limit; a failure answers politely and is logged and counted like a plugin failure.</summary>
    private async Task<bool> RunPluginCommandAsync(Turn turn, IWeSeekPlugin plugin, PluginCommand command, string argument)
    {
        var states = await _pluginSettings.GetAsync(IPluginSettingsStore.ChatKey(turn.Message), _plugins.Plugins, turn.Aborted);
        if (!states[plugin.Name])
        {
            return false;
        }

        Log.Handled(_logger, command.Name, turn.InboxId);
        var context = new PluginContext(turn.Message, turn.ConversationKey);
        var result = await PluginCall.RunAsync(plugin.Name, ct => command.Handler(context, argument, ct), _pluginOptions.Timeout, _time, _metrics, turn.Aborted);
        if (result.Failure is { } failure)
        {
            Log.PluginCommandFailed(_logger, plugin.Name, command.Name, result.Error);
            turn.Replies.Add(failure == "timeout" ? $"/{command.Name} 暂时没有响应，请稍后再试。" : $"/{command.Name} 暂时无法使用，请稍后再试。");
        }
        else
        {
            turn.Replies.Add(string.IsNullOrWhiteSpace(result.Value) ? "（没有结果）" : result.Value);
        }

        return true;
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
            case "插件":
                return ("plugins", "");
        }

        if (trimmed.Length < 2 || trimmed[0] is not ('/' or '／'))
        {
            return null;
        }

        var parts = trimmed[1..].Split((char[]?)null, 2, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var name = parts[0].ToLowerInvariant();
        var argument = parts.Length > 1 ? parts[1].ToLowerInvariant() : "";
        return name is "help" or "reset" or "think" or "plugins" ? (name, argument) : null;
    }

    private static partial class Log
    {
        [LoggerMessage(WeSeekEventId.CommandHandled, LogLevel.Debug, "Command /{Command} handled for message {InboxId}")]
        public static partial void Handled(ILogger logger, string command, long inboxId);

        [LoggerMessage(WeSeekEventId.PluginCommandFailed, LogLevel.Warning, "Plugin {Plugin}'s command /{Command} failed or ran out of time; the user got a polite answer")]
        public static partial void PluginCommandFailed(ILogger logger, string plugin, string command, Exception? exception);

        [LoggerMessage(WeSeekEventId.PluginToggled, LogLevel.Information, "Plugin {Plugin} turned on: {Enabled}, by message {InboxId}")]
        public static partial void PluginToggled(ILogger logger, string plugin, bool enabled, long inboxId);
    }
}
