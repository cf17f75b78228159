using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using WeSeek.Intents;
using WeSeek.Plugins;
using WeSeek.TestKit;

namespace WeSeek.Tests.Intents;

/// <summary>Rules, the classifier over labelled examples, and the model for ambiguous messages; then routing
/// through the real pipeline to the plugin an intent names.</summary>
public sealed class IntentRecognizerTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    internal static IntentOptions ShopIntents()
    {
        var options = new IntentOptions();
        var order = new IntentDefinition { Description = "查询订单状态", Plugin = "orders" };
        order.Patterns.Add(@"(订单|单号)\s*(?<order_id>\d{5,})");
        order.Examples.Add("我的订单到哪了");
        order.Examples.Add("查一下订单状态");
        order.Examples.Add("订单什么时候发货");
        order.Slots["order_id"] = @"(\d{5,})";
        options.Items["order_status"] = order;

        var refund = new IntentDefinition { Description = "申请退款或退货" };
        refund.Keywords.Add("退款");
        refund.Examples.Add("怎么申请退货");
        refund.Examples.Add("东西坏了想退货");
        options.Items["refund"] = refund;

        var weather = new IntentDefinition { Description = "天气" };
        weather.Keywords.Add("天气");
        options.Items["weather"] = weather;
        return options;
    }

    private static IntentRecognizer Recognizer(IntentOptions options, IChatClient? model = null)
    {
        var services = new ServiceCollection();
        if (model is not null)
        {
            services.AddSingleton(model);
        }

        return new IntentRecognizer(Options.Create(options), new CharacterNGramEmbeddings(), services.BuildServiceProvider(), NullLogger<IntentRecognizer>.Instance);
    }

    [Theory]
    [InlineData("明天北京天气怎么样", "weather", null)]
    [InlineData("我要退款，东西不好用", "refund", null)]
    [InlineData("帮我查订单 1002345 到哪了", "order_status", "1002345")]
    [InlineData("单号10023", "order_status", "10023")]
    public async Task Rules_KeywordsAndPatterns_FillSlots(string text, string intent, string? orderId)
    {
        using var recognizer = Recognizer(ShopIntents());

        var found = await recognizer.RecognizeAsync(text, Ct);

        Assert.NotNull(found);
        Assert.Equal(intent, found.Name);
        Assert.Equal(IntentSource.Rule, found.Source);
        Assert.Equal(1, found.Confidence);
        Assert.Equal(orderId, found.Slot("order_id"));
    }

    [Fact]
    public async Task Classifier_CloseToAnIntentsExamples_DecidesWithoutTheModel()
    {
        var model = new ScriptedChatClient(_ => ["{\"intent\":\"refund\",\"slots\":{}}"]);
        using var recognizer = Recognizer(ShopIntents(), model);

        var found = await recognizer.RecognizeAsync("我的订单到哪了呢", Ct);

        Assert.NotNull(found);
        Assert.Equal("order_status", found.Name);
        Assert.Equal(IntentSource.Classifier, found.Source);
        Assert.InRange(found.Confidence, 0.6, 1.0);
        Assert.Empty(model.Calls);
    }

    [Fact]
    public async Task Ambiguous_AsksTheModel_InJsonConstrainedToTheIntents()
    {
        var model = new ScriptedChatClient(_ => ["{\"intent\": \"order_status\", \"slots\": {\"order_id\": \"88888\"}}"]);
        var options = ShopIntents();
        options.Threshold = 0.99;
        using var recognizer = Recognizer(options, model);

        var found = await recognizer.RecognizeAsync("订单发货了没有", Ct);

        Assert.NotNull(found);
        Assert.Equal("order_status", found.Name);
        Assert.Equal(IntentSource.Model, found.Source);
        Assert.Equal("88888", found.Slot("order_id"));
        var asked = Assert.Single(model.Calls);
        Assert.Contains("order_status", asked[0].Text, StringComparison.Ordinal);
        Assert.Equal("订单发货了没有", asked[^1].Text);
    }

    [Theory]
    [InlineData("{\"intent\": \"chat\", \"slots\": {}}")]
    [InlineData("{\"intent\": \"launch_rocket\", \"slots\": {}}")]
    [InlineData("我觉得是订单查询")]
    [InlineData("{\"intent\": 42}")]
    public async Task ModelSaysChatOrSomethingElse_PlainChat(string answer)
    {
        var options = ShopIntents();
        options.Threshold = 0.99;
        using var recognizer = Recognizer(options, new ScriptedChatClient(_ => [answer]));

        Assert.Null(await recognizer.RecognizeAsync("订单发货了没有", Ct));
    }

    [Fact]
    public async Task FarFromEveryExample_PlainChat_WithoutAskingTheModel()
    {
        var model = new ScriptedChatClient(_ => ["{\"intent\":\"refund\",\"slots\":{}}"]);
        using var recognizer = Recognizer(ShopIntents(), model);

        Assert.Null(await recognizer.RecognizeAsync("给我讲个笑话吧", Ct));
        Assert.Empty(model.Calls);
    }

    [Fact]
    public async Task ModelFails_PlainChat()
    {
        var options = ShopIntents();
        options.Threshold = 0.99;
        var model = new ScriptedChatClient(_ => ["{}"]) { OnCall = (_, _) => throw new HttpRequestException("engine down") };
        using var recognizer = Recognizer(options, model);

        Assert.Null(await recognizer.RecognizeAsync("订单发货了没有", Ct));
    }

    [Fact]
    public void Schema_EnumeratesTheIntentsAndChat_AndEverySlot()
    {
        using var recognizer = Recognizer(ShopIntents());

        var schema = recognizer.Schema();

        var names = schema.GetProperty("properties").GetProperty("intent").GetProperty("enum").EnumerateArray().Select(e => e.GetString()).ToList();
        Assert.Equal(["order_status", "refund", "weather", "chat"], names);
        Assert.True(schema.GetProperty("properties").GetProperty("slots").GetProperty("properties").TryGetProperty("order_id", out _));
    }

    [Fact]
    public async Task ThroughThePipeline_CommandsFirst_TheIntentReachesThePluginItRoutesTo()
    {
        var orders = new RecordingPlugin("orders");
        var other = new RecordingPlugin("other");
        var settings = new Dictionary<string, string?>
        {
            ["Intents:Items:order_status:Patterns:0"] = @"订单\s*(?<order_id>\d{5,})",
            ["Intents:Items:order_status:Plugin"] = "orders",
            ["Intents:Items:weather:Keywords:0"] = "天气",
        };
        await using var core = await CoreHarness.CreateAsync(settings: settings, configure: services =>
        {
            services.AddSingleton<IWeSeekPlugin>(orders);
            services.AddSingleton<IWeSeekPlugin>(other);
        });

        await core.ReceiveAsync("m1", "u1", "订单 123456 到哪了");
        await core.ReceiveAsync("m2", "u2", "今天天气好吗");
        await core.ReceiveAsync("m3", "u3", "/help 天气");
        await core.ReceiveAsync("m4", "u4", "讲个笑话");
        await core.RunTurnsAsync();

        // Routed: the order question went to the orders plugin alone; other messages reach every plugin.
        var routed = Assert.Single(orders.Seen, c => c.Text.Contains("123456", StringComparison.Ordinal));
        Assert.Equal("order_status", routed.Intent?.Name);
        Assert.Equal("123456", routed.Intent?.Slot("order_id"));
        Assert.DoesNotContain(other.Seen, c => c.Text.Contains("123456", StringComparison.Ordinal));
        Assert.Equal("weather", Assert.Single(other.Seen, c => c.Text.Contains("天气", StringComparison.Ordinal)).Intent?.Name);
        Assert.DoesNotContain(other.Seen, c => c.Text.StartsWith('/'));
        Assert.Null(Assert.Single(other.Seen, c => c.Text == "讲个笑话").Intent);
    }

    [Fact]
    public async Task BadConfiguration_NamesTheKey()
    {
        var settings = new Dictionary<string, string?> { ["Intents:Items:Bad Name:Keywords:0"] = "x", ["Intents:Items:order:Patterns:0"] = "(unclosed" };

        var failure = await Assert.ThrowsAnyAsync<OptionsValidationException>(async () =>
        {
            await using var core = await CoreHarness.CreateAsync(settings: settings);
            _ = core.Services.GetRequiredService<IOptions<IntentOptions>>().Value;
        });

        Assert.Contains("Intents:Items:Bad Name", failure.Message, StringComparison.Ordinal);
        Assert.Contains("Intents:Items:order:Patterns:0", failure.Message, StringComparison.Ordinal);
    }

    private sealed class RecordingPlugin(string name) : IWeSeekPlugin
    {
        private readonly List<PluginContext> _seen = [];

        public string Name => name;

        public string Description => "记录";

        public IReadOnlyList<PluginContext> Seen
        {
            get
            {
                lock (_seen)
                {
                    return [.. _seen];
                }
            }
        }

        public Task<PluginResult?> TryHandleAsync(PluginContext context, CancellationToken cancellationToken)
        {
            lock (_seen)
            {
                _seen.Add(context);
            }

            return Task.FromResult<PluginResult?>(null);
        }
    }
}
