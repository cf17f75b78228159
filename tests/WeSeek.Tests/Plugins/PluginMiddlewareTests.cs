using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using WeSeek.Plugins;
using WeSeek.TestKit;
using WeSeek.Tests.Inbox;

namespace WeSeek.Tests.Plugins;

public sealed class PluginMiddlewareTests
{
    private static ScriptedChatClient Answering() => new(_ => ["<think>嗯</think>", "答：年假十天。"]);

    private static Task<CoreHarness> CreateAsync(ScriptedChatClient client, IDictionary<string, string?>? settings, params IWeSeekPlugin[] plugins) =>
        CoreHarness.CreateAsync(client, settings, configure: services =>
        {
            foreach (var plugin in plugins)
            {
                services.AddSingleton(plugin);
            }
        });

    [Fact]
    public async Task Passages_GoIntoThePrompt_AndCitationsEndTheAnswer()
    {
        var client = Answering();
        await using var harness = await CreateAsync(client, null, new FixedPlugin("handbook", "员工每年享有十天带薪年假。", "员工手册.md"));
        await harness.ReceiveAsync("m1", "alice", "年假有几天？");
        await harness.RunTurnsAsync();

        var prompt = Assert.Single(client.Calls)[^1].Text;
        Assert.Contains("年假有几天？\n\n参考资料", prompt, StringComparison.Ordinal);
        Assert.Contains("（员工手册.md）员工每年享有十天带薪年假。", prompt, StringComparison.Ordinal);
        var reply = string.Join('\n', await DurableInboxTests.OutboxTextsAsync(harness));
        Assert.Contains("年假十天。", reply, StringComparison.Ordinal);
        Assert.EndsWith("来源：员工手册.md", reply, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Passages_AreNotKeptInHistory()
    {
        var client = Answering();
        await using var harness = await CreateAsync(client, null, new FixedPlugin("handbook", "员工每年享有十天带薪年假。", "员工手册.md"));
        await harness.ReceiveAsync("m1", "alice", "年假有几天？");
        await harness.RunTurnsAsync();
        await harness.ReceiveAsync("m2", "alice", "谢谢");
        await harness.RunTurnsAsync();

        var second = client.Calls[1];
        Assert.EndsWith("年假有几天？", second[0].Text, StringComparison.Ordinal);
        Assert.Equal(1, second.Count(m => m.Text.Contains("参考资料", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task ThrowingAndHangingPlugins_AreContained_AndAnotherStillContributes()
    {
        var client = Answering();
        var good = new FixedPlugin("good", "报销需在三十天内提交。", "财务制度.txt");
        await using var harness = await CreateAsync(client, new Dictionary<string, string?> { ["Plugins:Timeout"] = "00:00:02" },
            new ThrowingPlugin("boom-contained"), new HangingPlugin("stuck-contained"), good);
        using var collector = new MetricCollector<long>(harness.Services.GetRequiredService<IMeterFactory>(), "WeSeek", "weseek.plugins.failures");
        await harness.ReceiveAsync("m1", "alice", "报销期限是多久？");

        // The hanging plugin holds the turn until its time limit passes on the harness's virtual clock.
        var turns = harness.RunTurnsAsync();
        for (var i = 0; i < 3000 && !turns.IsCompleted; i++)
        {
            harness.Time.Advance(TimeSpan.FromMilliseconds(500));
            await Task.Delay(10, TestContext.Current.CancellationToken);
        }

        await turns.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        Assert.Equal(1, good.Calls);
        var prompt = Assert.Single(client.Calls)[^1].Text;
        Assert.Contains("报销需在三十天内提交。", prompt, StringComparison.Ordinal);
        var reply = string.Join('\n', await DurableInboxTests.OutboxTextsAsync(harness));
        Assert.Contains("年假十天。", reply, StringComparison.Ordinal);
        Assert.Contains("来源：财务制度.txt", reply, StringComparison.Ordinal);
        var failures = collector.GetMeasurementSnapshot().Select(m => ((string)m.Tags["plugin"]!, (string)m.Tags["reason"]!)).ToList();
        Assert.Contains(("boom-contained", "error"), failures);
        Assert.Contains(("stuck-contained", "timeout"), failures);
    }

    [Fact]
    public async Task DirectAnswer_IsTheReply_WithoutTheModel()
    {
        var client = Answering();
        await using var harness = await CreateAsync(client, null, new AnsweringPlugin("weather"), new FixedPlugin("handbook", "资料", "a.md"));
        await harness.ReceiveAsync("m1", "alice", "今天天气怎么样");
        await harness.RunTurnsAsync();
        await harness.ReceiveAsync("m2", "alice", "年假有几天？");
        await harness.RunTurnsAsync();

        Assert.Single(client.Calls);
        var replies = await DurableInboxTests.OutboxTextsAsync(harness);
        Assert.Equal("今天晴，25°C。", replies[0]);
        Assert.Contains("来源：a.md", replies[^1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task PluginsCommand_TurnsAPluginOffAndOn_PerChat()
    {
        var client = Answering();
        var handbook = new FixedPlugin("handbook", "员工每年享有十天带薪年假。", "员工手册.md");
        await using var harness = await CreateAsync(client, null, handbook, new AnsweringPlugin("weather"));

        await harness.ReceiveAsync("m1", "alice", "/plugins off HANDBOOK");
        await harness.RunTurnsAsync();
        await harness.ReceiveAsync("m2", "alice", "年假有几天？");
        await harness.RunTurnsAsync();
        await harness.ReceiveAsync("m3", "bob", "年假有几天？");
        await harness.RunTurnsAsync();
        await harness.ReceiveAsync("m4", "alice", "/plugins");
        await harness.RunTurnsAsync();

        Assert.Equal(1, handbook.Calls);
        Assert.DoesNotContain("参考资料", client.Calls[0][^1].Text, StringComparison.Ordinal);
        Assert.Contains("参考资料", client.Calls[1][^1].Text, StringComparison.Ordinal);
        var list = (await DurableInboxTests.OutboxTextsAsync(harness, "chat_id = 'alice'"))[^1];
        Assert.Contains("⛔ 关 handbook", list, StringComparison.Ordinal);
        Assert.Contains("✅ 开 weather", list, StringComparison.Ordinal);

        await harness.ReceiveAsync("m5", "alice", "/plugins on handbook");
        await harness.RunTurnsAsync();
        await harness.ReceiveAsync("m6", "alice", "年假有几天？");
        await harness.RunTurnsAsync();
        Assert.Equal(2, handbook.Calls);
        Assert.Contains("参考资料", client.Calls[2][^1].Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PluginSettings_SurviveARestart_AndOffByDefaultApplies()
    {
        using var directory = new TempDirectory();
        var settings = new Dictionary<string, string?> { ["Plugins:OffByDefault:0"] = "handbook" };
        var handbook = new FixedPlugin("handbook", "资料", "a.md");
        await using (var first = await CoreHarnessWith(directory.Path, settings, handbook))
        {
            await first.ReceiveAsync("m1", "alice", "/plugins on handbook");
            await first.RunTurnsAsync();
        }

        await using var second = await CoreHarnessWith(directory.Path, settings, handbook);
        await second.ReceiveAsync("m2", "alice", "问题");
        await second.ReceiveAsync("m3", "bob", "问题");
        await second.RunTurnsAsync();
        Assert.Equal(1, handbook.Calls);
    }

    [Theory]
    [InlineData("/plugins", "")]
    [InlineData("/plugins on kb", "on kb")]
    [InlineData("插件", "")]
    public void Parse_PluginsCommand(string text, string argument) =>
        Assert.Equal(("plugins", argument), WeSeek.Commands.CommandMiddleware.Parse(text));

    [Fact]
    public async Task UnknownPlugin_IsNamedInTheAnswer()
    {
        await using var harness = await CreateAsync(Answering(), null, new FixedPlugin("handbook", "资料", "a.md"));
        await harness.ReceiveAsync("m1", "alice", "/plugins off nosuch");
        await harness.RunTurnsAsync();
        Assert.Contains("nosuch", Assert.Single(await DurableInboxTests.OutboxTextsAsync(harness)), StringComparison.Ordinal);
    }

    private static Task<CoreHarness> CoreHarnessWith(string directory, IDictionary<string, string?> settings, IWeSeekPlugin plugin) =>
        CoreHarness.CreateAsync(Answering(), settings, dataDirectory: directory, configure: services => services.AddSingleton(plugin));

}
