using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Options;
using WeSeek.Media;
using WeSeek.Messaging;
using WeSeek.TestKit;
using WeSeek.Tests.Inbox;

namespace WeSeek.Tests.Media;

/// <summary>
/// Image understanding in the core pipeline, against a vision stub speaking the OpenAI chat completions API over
/// loopback; images come from a channel that serves its media as WeChat's media API would.
/// </summary>
public sealed class VisionTests
{
    private static readonly byte[] Png = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 7, 7, 7];

    private static Task<CoreHarness> CreateAsync(ScriptedChatClient client, FakeOpenAiServer vision, PictureChannel pictures) =>
        CoreHarness.CreateAsync(client, settings: new Dictionary<string, string?>
        {
            ["Vision:Endpoint"] = vision.BaseUrl.ToString(),
            ["Vision:Model"] = "qwen2.5-vl",
        }, configure: services => services.AddSingleton<IChannel>(pictures));

    [Fact]
    public async Task ImageWithAQuestion_TheDescriptionGoesIntoThePrompt_AndTheModelAnswers()
    {
        await using var vision = await FakeOpenAiServer.StartAsync();
        vision.Script = _ => ["一只橘猫趴在键盘上。"];
        var client = ScriptedChatClient.Echo();
        var pictures = new PictureChannel();
        await using var harness = await CreateAsync(client, vision, pictures);

        await harness.Sink.AcceptAsync(pictures.Image("m1", "[图片]这只猫是什么品种？"), CancellationToken.None);
        await harness.RunTurnsAsync();

        var prompt = Assert.Single(client.Calls)[^1].Text;
        Assert.EndsWith("这只猫是什么品种？\n\n图片描述：一只橘猫趴在键盘上。", prompt, StringComparison.Ordinal);
        Assert.Single(vision.Requests);
        Assert.Single(await DurableInboxTests.OutboxTextsAsync(harness));

        // History keeps the question with its description, so a follow-up about the picture can use it.
        await harness.Sink.AcceptAsync(pictures.Text("m2", "它在干什么？"), CancellationToken.None);
        await harness.RunTurnsAsync();
        var followUp = client.Calls[1];
        Assert.Contains(followUp.SkipLast(1), m => m.Text.EndsWith("这只猫是什么品种？\n\n图片描述：一只橘猫趴在键盘上。", StringComparison.Ordinal));
        Assert.Single(vision.Requests);
    }

    [Fact]
    public async Task PictureAlone_AnsweredWithItsDescription_LaidOutForWeChatWithoutTheChatModel()
    {
        await using var vision = await FakeOpenAiServer.StartAsync();
        vision.Script = _ => ["**一只橘猫**趴在键盘上。"];
        var client = ScriptedChatClient.Echo();
        var pictures = new PictureChannel();
        await using var harness = await CreateAsync(client, vision, pictures);

        await harness.Sink.AcceptAsync(pictures.Image("m1", "[图片]"), CancellationToken.None);
        await harness.RunTurnsAsync();

        // WeChat shows no Markdown: the composer flattened the bold as it does for the chat model's answers.
        Assert.Equal(["图片描述：一只橘猫趴在键盘上。"], await DurableInboxTests.OutboxTextsAsync(harness));
        Assert.Empty(client.Calls);
    }

    [Fact]
    public async Task VisionEndpointFails_TheTurnAnswersFromTheText()
    {
        await using var vision = await FakeOpenAiServer.StartAsync();
        vision.Down = true;
        var client = ScriptedChatClient.Echo();
        var pictures = new PictureChannel();
        await using var harness = await CreateAsync(client, vision, pictures);

        await harness.Sink.AcceptAsync(pictures.Image("m1", "[图片]这是什么？"), CancellationToken.None);
        await harness.RunTurnsAsync();

        Assert.EndsWith("[图片]这是什么？", Assert.Single(client.Calls)[^1].Text, StringComparison.Ordinal);
        Assert.DoesNotContain("图片描述", string.Join('\n', await DurableInboxTests.OutboxTextsAsync(harness)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task VisionEndpointSlowerThanTheTimeout_TheTurnAnswersFromTheText_AndTheTimeoutIsCounted()
    {
        await using var vision = await FakeOpenAiServer.StartAsync();
        vision.BeforeAnswer = ct => Task.Delay(Timeout.InfiniteTimeSpan, ct);
        var client = ScriptedChatClient.Echo();
        var pictures = new PictureChannel();
        await using var harness = await CreateAsync(client, vision, pictures);
        using var failures = new MetricCollector<long>(harness.Services.GetRequiredService<IMeterFactory>(), "WeSeek", "weseek.vision.failures");

        await harness.Sink.AcceptAsync(pictures.Image("m1", "[图片]这是什么？"), CancellationToken.None);
        var turns = harness.RunTurnsAsync();
        using (var wait = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
        {
            while (vision.Requests.Count == 0)
            {
                await Task.Delay(10, wait.Token);
            }
        }

        // Virtual time: Vision:Timeout (30 s by default) passes without waiting for it.
        harness.Time.Advance(TimeSpan.FromSeconds(31));
        await turns.WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);

        Assert.EndsWith("[图片]这是什么？", Assert.Single(client.Calls)[^1].Text, StringComparison.Ordinal);
        Assert.Equal(1, failures.GetMeasurementSnapshot().Where(m => m.Tags["reason"] is "timeout").Sum(m => m.Value));
    }

    [Fact]
    public async Task EndpointWithoutModel_StopsStartUpNamingTheKey()
    {
        var error = await Assert.ThrowsAnyAsync<OptionsValidationException>(async () =>
        {
            await using var harness = await CoreHarness.CreateAsync(settings: new Dictionary<string, string?> { ["Vision:Endpoint"] = "http://127.0.0.1:9/v1" });
            _ = harness.Services.GetRequiredService<IOptions<VisionOptions>>().Value;
        });

        Assert.Contains("Vision:Model (environment variable WESEEK__Vision__Model)", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("[图片] http://mmbiz.qpic.cn/abc", "")]
    [InlineData("[图片][图片]", "")]
    [InlineData("[图片]图里有什么", "图里有什么")]
    public void Question_IsTheTextWithoutTheImagesRendering(string text, string question)
    {
        var message = new InboundMessage(ChannelId.From("pics"), "acct", "m", "c", "c", text, DateTimeOffset.UnixEpoch)
        {
            Kind = MessageKind.Image,
            Attachments = [new MediaAttachment(MessageKind.Image, "abc", "http://mmbiz.qpic.cn/abc")],
        };

        Assert.Equal(question, VisionMiddleware.Question(message));
    }

    /// <summary>A channel whose messages carry one picture, served by <see cref="IMediaSource"/>.</summary>
    private sealed class PictureChannel : IChannel, IMediaSource
    {
        public ChannelId Id { get; } = ChannelId.From("pics");

        public ChannelCapabilities Capabilities { get; } = new();

        public InboundMessage Image(string externalId, string text) =>
            new(Id, "acct", externalId, "alice", "alice", text, CoreHarness.Start)
            {
                Kind = MessageKind.Image,
                Attachments = [new MediaAttachment(MessageKind.Image, "media-" + externalId, null)],
            };

        public InboundMessage Text(string externalId, string text) => new(Id, "acct", externalId, "alice", "alice", text, CoreHarness.Start);

        public Task<MediaContent> DownloadAsync(InboundMessage message, MediaAttachment attachment, long maxBytes, CancellationToken cancellationToken) =>
            Task.FromResult(new MediaContent(Png, "image/png"));

        public Task StartAsync(IInboundSink sink, CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task<SendReceipt> SendAsync(OutboundMessage message, CancellationToken cancellationToken) =>
            Task.FromResult(new SendReceipt("p-" + message.OutboxId));
    }
}
