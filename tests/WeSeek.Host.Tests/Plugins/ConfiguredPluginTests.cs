using Microsoft.Data.Sqlite;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using WeSeek.Host.Commands;
using WeSeek.Plugins;
using WeSeek.TestKit;

namespace WeSeek.Host.Tests.Plugins;

/// <summary>The built-in plugins that need configuration, as the host composes them from it.</summary>
public sealed class ConfiguredPluginTests
{
    private static string CreateShop(TempDirectory data)
    {
        var file = Path.Combine(data.Path, "shop.db");
        using var connection = new SqliteConnection($"Data Source={file};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "CREATE TABLE orders (id INTEGER PRIMARY KEY, status TEXT); INSERT INTO orders VALUES (10023, '已发货');";
        command.ExecuteNonQuery();
        return file;
    }

    private static string[] Args(TempDirectory data, params string[] extra) =>
        ["--urls=http://127.0.0.1:0", $"--Storage:DataDirectory={data.Path}", "--Model:Provider=remote", .. extra];

    [Fact]
    public async Task Serve_RegistersPluginsSqlAndHttp_OnlyWhenTheyAreConfigured()
    {
        using var data = new TempDirectory();
        var shop = CreateShop(data);

        await using (var plain = ServeCommand.Build(Args(data)))
        {
            Assert.DoesNotContain(plain.Services.GetServices<IWeSeekPlugin>(), p => p.Name is "sql" or "http");
        }

        await using (var http = ServeCommand.Build(Args(data, "--Plugins:Http:Endpoints:weather:Url=http://127.0.0.1:9/weather/{city}")))
        {
            Assert.Equal(["kb", "http"], http.Services.GetServices<IWeSeekPlugin>().Select(p => p.Name));
        }

        await using var configured = ServeCommand.Build(Args(data,
            $"--Plugins:Sql:ConnectionString=Data Source={shop}",
            "--Plugins:Sql:Tables:0=orders",
            "--Plugins:Sql:Queries:order_status:Sql=SELECT id, status FROM orders WHERE id = @order_id"));
        var plugin = Assert.Single(configured.Services.GetServices<IWeSeekPlugin>(), p => p.Name == "sql");

        var message = new WeSeek.Messaging.InboundMessage(WeSeek.Messaging.ChannelId.From("webchat"), "web", "m1", "c1", "c1", "10023 到哪了", DateTimeOffset.UnixEpoch);
        var context = new PluginContext(message, "webchat/web/c1")
        {
            Intent = new TurnIntent("order_status", new Dictionary<string, string> { ["order_id"] = "10023" }, IntentSource.Rule, 1),
        };
        var result = await plugin.TryHandleAsync(context, TestContext.Current.CancellationToken);
        Assert.Contains("10023 | 已发货", Assert.Single(result!.Passages).Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_WithAQueryThatWrites_StopsStartUpNamingTheKeyAndTheRefusal()
    {
        using var data = new TempDirectory();
        var shop = CreateShop(data);

        var (exitCode, _, error) = await WeseekProcess.RunAsync(["serve", .. Args(data,
            $"--Plugins:Sql:ConnectionString=Data Source={shop}",
            "--Plugins:Sql:Tables:0=orders",
            "--Plugins:Sql:Queries:cancel_order:Sql=UPDATE orders SET status = 'cancelled' WHERE id = @order_id")]);

        Assert.Equal(2, exitCode);
        Assert.Contains("Plugins:Sql:Queries:cancel_order:Sql", error, StringComparison.Ordinal);
        Assert.Contains("UPDATE orders", error, StringComparison.Ordinal);
        using var connection = new SqliteConnection($"Data Source={shop};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT status FROM orders WHERE id = 10023";
        Assert.Equal("已发货", command.ExecuteScalar());
    }

    [Fact]
    public async Task OrderQuestion_IntentRoutesToTheSqlPlugin_RowsReachThePromptAndTheAnswerCitesTheTable()
    {
        using var data = new TempDirectory();
        var shop = CreateShop(data);
        var model = ScriptedChatClient.Echo();
        await using var app = await WeSeek.Host.Tests.WebChat.WebChatEndToEndTests.StartAsync(
            data,
            services =>
            {
                services.RemoveAll<IChatClient>();
                services.AddChatClient(model).UseReasoningSplit();
            },
            "--Intents:Items:order_status:Patterns:0=订单\\s*(?<order_id>\\d{5,})",
            "--Intents:Items:order_status:Plugin=sql",
            $"--Plugins:Sql:ConnectionString=Data Source={shop}",
            "--Plugins:Sql:Tables:0=orders",
            "--Plugins:Sql:Queries:order_status:Sql=SELECT id, status FROM orders WHERE id = @order_id");
        using var http = TestHttp.CreateClient(WeSeek.Host.Tests.WebChat.WebChatEndToEndTests.BaseAddress(app));

        await WeSeek.Host.Tests.WebChat.WebChatEndToEndTests.PostAsync(http, "c-shop", "m-1", "订单 10023 到哪了");
        var history = await WeSeek.Host.Tests.WebChat.WebChatEndToEndTests.WaitForRepliesAsync(http, "c-shop", 1);

        var prompt = Assert.Single(model.Calls)[^1].Text;
        Assert.Contains("已发货", prompt, StringComparison.Ordinal);
        Assert.Contains("来源：数据库 orders", history[^1].GetProperty("text").GetString(), StringComparison.Ordinal);
    }
}
