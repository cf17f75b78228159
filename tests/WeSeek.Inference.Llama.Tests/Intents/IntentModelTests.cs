using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using WeSeek.Inference.Llama.Engine;
using WeSeek.Intents;
using WeSeek.Plugins;

namespace WeSeek.Inference.Llama.Tests.Intents;

/// <summary>
/// The intent recogniser's model step on real llama.cpp with a synthesised model: its weights are random, so
/// what it chooses is noise, but the schema-constrained grammar must make every answer parse into one of the
/// configured intents or <c>chat</c>.
/// </summary>
public sealed class IntentModelTests : IAsyncLifetime
{
    private LlamaEngineHost _host = null!;
    private IChatClient _client = null!;

    public async ValueTask InitializeAsync()
    {
        _host = LlamaEngineHost.ForModel(new LlamaEngineOptions { ModelPath = TinyModel.File, ContextSize = 2048, MaxSequences = 4 });
        await _host.StartAsync(TestContext.Current.CancellationToken);
        _client = new ChatClientBuilder(new LlamaChatClient(_host)).UseReasoningSplit().Build();
    }

    public async ValueTask DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task EveryAnswer_Parses_IntoAConfiguredIntentOrChat()
    {
        var options = new IntentOptions();
        var order = new IntentDefinition { Description = "查询订单状态" };
        order.Examples.Add("我的订单到哪了");
        order.Slots["order_id"] = @"(\d{5,})";
        options.Items["order_status"] = order;
        var refund = new IntentDefinition { Description = "申请退款" };
        refund.Examples.Add("我要退款");
        options.Items["refund"] = refund;
        var services = new ServiceCollection().AddSingleton(_client).BuildServiceProvider();
        using var recognizer = new IntentRecognizer(Options.Create(options), new CharacterNGramEmbeddings(), services, NullLogger<IntentRecognizer>.Instance);
        string[] allowed = ["order_status", "refund", IntentRecognizer.Chat];
        var random = new Random(20261128);
        const string Alphabet = "订单退款到哪了我要查一下帮天气笑话你好1234567890abc，。？";

        for (var i = 0; i < 8; i++)
        {
            var text = new string([.. Enumerable.Range(0, random.Next(2, 20)).Select(_ => Alphabet[random.Next(Alphabet.Length)])]);
            var (messages, chatOptions) = recognizer.ModelRequest(text);
            chatOptions.Seed = i;

            var response = await _client.GetResponseAsync(messages, chatOptions, TestContext.Current.CancellationToken);
            var parsed = IntentRecognizer.Parse(response.Text);

            Assert.True(parsed is not null, $"answer to '{text}' did not parse: {response.Text}");
            Assert.Contains(parsed.Value.Name, allowed);
        }

        // And the recogniser's own step returns an intent of the list, or plain chat.
        var intent = await recognizer.AskModelAsync("订单 12345 到哪了", TestContext.Current.CancellationToken);
        Assert.True(intent is null || (intent.Source == IntentSource.Model && allowed.Contains(intent.Name)));
    }
}
