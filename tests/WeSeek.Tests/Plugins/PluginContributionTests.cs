using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using WeSeek.Plugins;
using WeSeek.TestKit;

namespace WeSeek.Tests.Plugins;

/// <summary>What a plugin contributes besides passages: commands (with /help, per-chat switches and
/// containment) and tools for a model that calls them.</summary>
public sealed class PluginContributionTests
{
    private sealed class DutyPlugin : IWeSeekPlugin
    {
        public int ToolCalls;

        public string Name => "duty";

        public string Description => "值班表";

        public IReadOnlyList<PluginCommand> Commands =>
        [
            new("duty", "查看今天谁值班", (context, argument, _) => Task.FromResult($"今天值班：张三（{context.Message.ChatId}，{argument}）")),
            new("broken", "总是出错", (_, _, _) => throw new InvalidOperationException("bug")),
        ];

        public IReadOnlyList<AIFunction> Tools =>
        [
            AIFunctionFactory.Create((string day) => { Interlocked.Increment(ref ToolCalls); return $"{day}值班：李四"; }, "get_duty", "查某天的值班人"),
        ];

        public Task<PluginResult?> TryHandleAsync(PluginContext context, CancellationToken cancellationToken) => Task.FromResult<PluginResult?>(null);
    }

    /// <summary>Asks for the tool once, then answers with what the tool returned.</summary>
    private sealed class ToolCallingModel : IChatClient
    {
        public List<ChatOptions?> Options { get; } = [];

        public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
            GetStreamingResponseAsync(messages, options, cancellationToken).ToChatResponseAsync(cancellationToken);

        public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            await Task.Yield();
            Options.Add(options);
            var result = messages.SelectMany(m => m.Contents).OfType<FunctionResultContent>().LastOrDefault();
            if (options?.Tools is { Count: > 0 } && result is null)
            {
                yield return new ChatResponseUpdate(ChatRole.Assistant, [new FunctionCallContent("call-1", "get_duty", new Dictionary<string, object?> { ["day"] = "周六" })]);
                yield break;
            }

            yield return new ChatResponseUpdate(ChatRole.Assistant, "<think>查一下</think>答：" + (result?.Result?.ToString() ?? "不知道"));
        }

        public object? GetService(Type serviceType, object? serviceKey = null) => null;

        public void Dispose()
        {
        }
    }

    [Fact]
    public async Task Command_AnswersWithoutTheModel_ListedByHelp_OnlyWhereThePluginIsOn()
    {
        var model = ScriptedChatClient.Echo();
        var plugin = new DutyPlugin();
        var settings = new Dictionary<string, string?> { ["Outbox:PacingInterval"] = "00:00:00" };
        await using var core = await CoreHarness.CreateAsync(model, settings, configure: s => s.AddSingleton<IWeSeekPlugin>(plugin));

        await core.ReceiveAsync("m1", "u1", "/duty 周末");
        await core.ReceiveAsync("m2", "u2", "/help");
        await core.ReceiveAsync("m3", "u3", "/plugins off duty");
        await core.RunTurnsAsync();
        await core.ReceiveAsync("m4", "u3", "/duty");
        await core.ReceiveAsync("m5", "u4", "/broken");
        await core.RunTurnsAsync();
        await core.SendDueAsync();

        var sent = core.Channel.Sent.Select(s => (s.Message.ChatId, s.Message.Text)).ToList();
        Assert.Contains(("u1", "今天值班：张三（u1，周末）"), sent);
        Assert.Contains(sent, s => s.ChatId == "u2" && s.Text.Contains("/duty — 查看今天谁值班", StringComparison.Ordinal));
        Assert.Contains(sent, s => s.ChatId == "u3" && s.Text.StartsWith("答：", StringComparison.Ordinal));
        Assert.Contains(sent, s => s.ChatId == "u4" && s.Text.Contains("暂时无法使用", StringComparison.Ordinal));
        Assert.Single(model.Calls);
    }

    [Fact]
    public async Task Tools_ReachAModelThatCallsThem_OnlyWithToolCalling()
    {
        var model = new ToolCallingModel();
        var plugin = new DutyPlugin();
        var settings = new Dictionary<string, string?> { ["Model:ToolCalling"] = "true" };
        await using var core = await CoreHarness.CreateAsync(model, settings, configure: s => s.AddSingleton<IWeSeekPlugin>(plugin));

        await core.ReceiveAsync("m1", "u1", "周六谁值班？");
        await core.RunTurnsAsync();
        await core.SendDueAsync();

        Assert.Equal(1, plugin.ToolCalls);
        Assert.Equal("答：周六值班：李四", Assert.Single(core.Channel.Sent).Message.Text);
        Assert.Contains(model.Options, o => o?.Tools?.Any(t => t.Name == "get_duty") == true);
    }

    private sealed class FooterPlugin(string name, bool broken) : IWeSeekPlugin, WeSeek.Pipeline.ITurnMiddleware
    {
        public string Name => name;

        public string Description => "签名";

        public IReadOnlyList<WeSeek.Pipeline.ITurnMiddleware> Middlewares => [this];

        public Task<PluginResult?> TryHandleAsync(PluginContext context, CancellationToken cancellationToken) => Task.FromResult<PluginResult?>(null);

        public async Task InvokeAsync(WeSeek.Pipeline.Turn turn, WeSeek.Pipeline.TurnDelegate next)
        {
            if (broken)
            {
                throw new InvalidOperationException("step bug");
            }

            await next(turn);
            turn.Replies[^1] += "\n—— 值班助手";
        }
    }

    [Fact]
    public async Task Middlewares_WrapTheRestOfTheTurn_WherePluginIsOn_AndABrokenOneIsSkipped()
    {
        var model = ScriptedChatClient.Echo();
        var settings = new Dictionary<string, string?> { ["Outbox:PacingInterval"] = "00:00:00" };
        await using var core = await CoreHarness.CreateAsync(model, settings, configure: s =>
        {
            s.AddSingleton<IWeSeekPlugin>(new FooterPlugin("footer", broken: false));
            s.AddSingleton<IWeSeekPlugin>(new FooterPlugin("broken", broken: true));
        });

        await core.ReceiveAsync("m1", "u1", "你好");
        await core.ReceiveAsync("m2", "u2", "/plugins off footer");
        await core.RunTurnsAsync();
        await core.ReceiveAsync("m3", "u2", "再见");
        await core.RunTurnsAsync();
        await core.SendDueAsync();

        var sent = core.Channel.Sent.Select(s => (s.Message.ChatId, s.Message.Text)).ToList();
        Assert.Contains(("u1", "答：你好\n—— 值班助手"), sent);
        Assert.Contains(("u2", "答：再见"), sent);
        Assert.Equal(2, model.Calls.Count);
    }

    [Fact]
    public async Task Tools_NotOffered_WithoutToolCalling()
    {
        var model = new ToolCallingModel();
        var plugin = new DutyPlugin();
        await using var core = await CoreHarness.CreateAsync(model, configure: s => s.AddSingleton<IWeSeekPlugin>(plugin));

        await core.ReceiveAsync("m1", "u1", "周六谁值班？");
        await core.RunTurnsAsync();

        Assert.Equal(0, plugin.ToolCalls);
        Assert.All(model.Options, o => Assert.Null(o?.Tools));
    }
}
