using Microsoft.Extensions.DependencyInjection;
using WeSeek.Plugins;
using WeSeek.TestKit;
using WeSeek.Tests.Inbox;

namespace WeSeek.Tests.Plugins;

/// <summary>The plugin docs/plugins.md shows, as written there, registered with AddPlugin.</summary>
public sealed class DocumentedPluginTests
{
    public sealed class DutyPlugin(TimeProvider time) : IWeSeekPlugin
    {
        private static readonly string[] Roster = ["张伟", "李娜", "王芳", "刘洋", "陈静", "杨帆", "赵磊"];

        public string Name => "duty";

        public string Description => "值班查询：今天谁值班";

        public Task<PluginResult?> TryHandleAsync(PluginContext context, CancellationToken cancellationToken)
        {
            if (context.Text.Contains("值班", StringComparison.Ordinal))
            {
                var today = Roster[(int)time.GetLocalNow().DayOfWeek];
                return Task.FromResult<PluginResult?>(PluginResult.Reply($"今天值班的是{today}。"));
            }

            if (context.Text.Contains("地址", StringComparison.Ordinal))
            {
                return Task.FromResult<PluginResult?>(PluginResult.Context(
                    [new PluginPassage("公司地址：北京市海淀区中关村大街1号，地铁4号线中关村站A口。", "行政部")],
                    ["来源：行政部"]));
            }

            return Task.FromResult<PluginResult?>(null);
        }
    }

    [Fact]
    public async Task DocumentedPlugin_AnswersDirectly_AndContributesContext()
    {
        var client = new ScriptedChatClient(_ => ["地铁4号线中关村站A口出来就到。"]);
        await using var harness = await CoreHarness.CreateAsync(client, configure: services =>
            new Builder(services).AddPlugin<DutyPlugin>());

        await harness.ReceiveAsync("m1", "alice", "今天谁值班？");
        await harness.RunTurnsAsync();
        await harness.ReceiveAsync("m2", "alice", "公司地址在哪？");
        await harness.RunTurnsAsync();
        await harness.ReceiveAsync("m3", "alice", "你好");
        await harness.RunTurnsAsync();

        var replies = await DurableInboxTests.OutboxTextsAsync(harness);
        Assert.Equal("今天值班的是赵磊。", replies[0]); // the harness's clock: Saturday 2026-11-28, local time UTC
        Assert.EndsWith("来源：行政部", replies[1], StringComparison.Ordinal);
        Assert.Contains("中关村大街1号", client.Calls[0][^1].Text, StringComparison.Ordinal);
        Assert.DoesNotContain("参考资料", client.Calls[1][^1].Text, StringComparison.Ordinal);
        Assert.Equal(2, client.Calls.Count);
    }

    private sealed class Builder(IServiceCollection services) : IWeSeekBuilder
    {
        public IServiceCollection Services { get; } = services;

        public Microsoft.Extensions.Configuration.IConfiguration Configuration { get; } = new Microsoft.Extensions.Configuration.ConfigurationBuilder().Build();
    }
}
