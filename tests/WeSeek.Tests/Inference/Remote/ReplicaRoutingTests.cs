using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using WeSeek.Inference.Remote;
using WeSeek.TestKit;

namespace WeSeek.Tests.Inference.Remote;

/// <summary>Several model servers over real HTTP on loopback: a conversation stays on one, moves only when its
/// replica is down, and comes back when it is up.</summary>
public sealed class ReplicaRoutingTests : IAsyncLifetime
{
    private readonly List<FakeOpenAiServer> _servers = [];
    private ServiceProvider _services = null!;
    private IChatClient _client = null!;

    private ReplicaRouter Router => _services.GetRequiredService<ReplicaRouter>();

    public async ValueTask InitializeAsync()
    {
        for (var i = 0; i < 3; i++)
        {
            _servers.Add(await FakeOpenAiServer.StartAsync());
        }

        var services = new ServiceCollection();
        services.AddLogging();
        services.AddHttpClient();
        services.Configure<RemoteEngineOptions>(o =>
        {
            foreach (var server in _servers)
            {
                o.Replicas.Add(server.BaseUrl);
            }
        });
        services.AddSingleton(sp => new ReplicaRouter(sp.GetRequiredService<IOptions<RemoteEngineOptions>>().Value.Endpoints, NullLogger<ReplicaRouter>.Instance));
        _services = services.BuildServiceProvider();
        _client = RemoteEngineFactory.Create(_services);
    }

    public async ValueTask DisposeAsync()
    {
        _client.Dispose();
        await _services.DisposeAsync();
        foreach (var server in _servers)
        {
            await server.DisposeAsync();
        }
    }

    [Fact]
    public async Task Conversations_StayOnOneReplica_AndSpreadOverAll()
    {
        var conversations = Enumerable.Range(0, 30).Select(i => $"wechat:acct:user-{i}").ToList();
        for (var round = 0; round < 2; round++)
        {
            foreach (var conversation in conversations)
            {
                await AskAsync(conversation);
            }
        }

        var homes = conversations.ToDictionary(c => c, ServersThatSaw);
        Assert.All(homes.Values, servers => Assert.Single(servers));
        Assert.Equal(3, homes.Values.Select(s => s.Single()).Distinct().Count());
    }

    [Fact]
    public async Task ReplicaDown_OnlyItsConversationsMove_AndComeBackWhenItIsUp()
    {
        var conversations = Enumerable.Range(0, 30).Select(i => $"wechat:acct:user-{i}").ToList();
        var home = conversations.ToDictionary(c => c, c => Router.Rank(c)[0]);
        _servers[1].Down = true;

        foreach (var conversation in conversations)
        {
            var answer = await AskAsync(conversation);
            Assert.EndsWith("你说：问题", answer, StringComparison.Ordinal);
        }

        Assert.False(Router.IsHealthy(1));
        foreach (var conversation in conversations)
        {
            var servers = ServersThatSaw(conversation);
            if (home[conversation] == 1)
            {
                Assert.DoesNotContain(1, servers);
            }
            else
            {
                Assert.Equal([home[conversation]], servers);
            }
        }

        _servers[1].Down = false;
        Router.MarkUp(1);
        Assert.All(conversations, c => Assert.Equal(home[c], Router.Rank(c)[0]));
    }

    [Fact]
    public async Task Streaming_FailsOverBeforeTheFirstChunk()
    {
        var conversation = "wechat:acct:streamer";
        var first = Router.Rank(conversation)[0];
        _servers[first].Down = true;

        var text = string.Concat(await _client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "问题")], new ChatOptions { ConversationId = conversation }, TestContext.Current.CancellationToken)
            .Select(u => u.Text).ToListAsync(TestContext.Current.CancellationToken));

        Assert.Contains("你说：问题", text, StringComparison.Ordinal);
        Assert.False(Router.IsHealthy(first));
    }

    [Fact]
    public async Task AllReplicasDown_TheCallFails()
    {
        foreach (var server in _servers)
        {
            server.Down = true;
        }

        await Assert.ThrowsAnyAsync<Exception>(() => AskAsync("wechat:acct:nobody"));
    }

    private async Task<string> AskAsync(string conversation)
    {
        var response = await _client.GetResponseAsync([new ChatMessage(ChatRole.User, "问题")], new ChatOptions { ConversationId = conversation }, TestContext.Current.CancellationToken);
        return response.Text;
    }

    /// <summary>Which servers got a request from this conversation (its hashed <c>user</c>).</summary>
    private List<int> ServersThatSaw(string conversation)
    {
        var user = ConversationAffinityChatClient.Pseudonym(conversation);
        return [.. _servers.Select((s, i) => (s, i)).Where(x => x.s.Requests.Any(r => r["user"]?.GetValue<string>() == user)).Select(x => x.i)];
    }
}
