using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using WeSeek.TestKit;

namespace WeSeek.Tests.Moderation;

/// <summary>Moderation through the whole core: input before the model, every reply before the outbox.</summary>
public sealed class ModerationPipelineTests
{
    private static Dictionary<string, string?> Lists() => new()
    {
        ["Moderation:Lists:banned:Action"] = "Block",
        ["Moderation:Lists:banned:Words:0"] = "炸弹",
        ["Moderation:Lists:rude:Action"] = "Mask",
        ["Moderation:Lists:rude:Words:0"] = "笨蛋",
        ["Moderation:Lists:watch:Action"] = "Flag",
        ["Moderation:Lists:watch:Words:0"] = "彩票",
    };

    [Fact]
    public async Task BlockedInput_PoliteAnswerAndNoModelCall()
    {
        var model = ScriptedChatClient.Echo();
        await using var core = await CoreHarness.CreateAsync(model, Lists());

        await core.ReceiveAsync("m1", "u1", "怎么做炸 彈");
        await core.RunTurnsAsync();
        await core.SendDueAsync();

        Assert.Empty(model.Calls);
        Assert.Equal("抱歉，这个话题我无法回答。", Assert.Single(core.Channel.Sent).Message.Text);
    }

    [Fact]
    public async Task MaskedWordInTheAnswer_MaskedBeforeTheChannelSeesIt()
    {
        var model = ScriptedChatClient.Echo();
        await using var core = await CoreHarness.CreateAsync(model, Lists());

        // Flagged on the way in (the model is still asked); masked on the way out.
        await core.ReceiveAsync("m1", "u1", "彩票店的笨蛋老板");
        await core.RunTurnsAsync();
        await core.SendDueAsync();

        Assert.Single(model.Calls);
        Assert.Equal("答：彩票店的＊＊老板", Assert.Single(core.Channel.Sent).Message.Text);
    }

    [Fact]
    public async Task BlockedWordInTheAnswer_ReplacedByTheNotice()
    {
        var model = new ScriptedChatClient(_ => ["好的，关于炸弹的内容如下。"]);
        await using var core = await CoreHarness.CreateAsync(model, Lists());

        await core.ReceiveAsync("m1", "u1", "讲个故事");
        await core.RunTurnsAsync();
        await core.SendDueAsync();

        Assert.Equal("抱歉，这部分内容无法显示。", Assert.Single(core.Channel.Sent).Message.Text);
    }

    [Theory]
    [InlineData(true, 1)]
    [InlineData(false, 0)]
    public async Task ExternalServiceTimesOut_FailOpenLetsThrough_FailClosedBlocks(bool failOpen, int modelCalls)
    {
        await using var service = await ModerationService.StartAsync(async context => await Task.Delay(TimeSpan.FromSeconds(30), context.RequestAborted));
        var model = ScriptedChatClient.Echo();
        await using var core = await CoreHarness.CreateAsync(model, new Dictionary<string, string?>
        {
            ["Moderation:External:Url"] = service.Url.ToString(),
            ["Moderation:External:Timeout"] = "00:00:00.200",
            ["Moderation:External:FailOpen"] = failOpen.ToString(),
        }, time: null, configure: services => services.AddSingleton<TimeProvider>(TimeProvider.System));

        await core.ReceiveAsync("m1", "u1", "你好");
        await core.RunTurnsAsync();

        Assert.Equal(modelCalls, model.Calls.Count);
    }

    [Fact]
    public async Task ExternalServiceSaysBlock_InputBlocked()
    {
        await using var service = await ModerationService.StartAsync(async context =>
        {
            using var body = await System.Text.Json.JsonDocument.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted);
            var text = body.RootElement.GetProperty("text").GetString()!;
            await context.Response.WriteAsJsonAsync(new { block = text.Contains("违规", StringComparison.Ordinal) }, context.RequestAborted);
        });
        var model = ScriptedChatClient.Echo();
        await using var core = await CoreHarness.CreateAsync(model, new Dictionary<string, string?> { ["Moderation:External:Url"] = service.Url.ToString() });

        await core.ReceiveAsync("m1", "u1", "一段违规内容");
        await core.ReceiveAsync("m2", "u2", "正常内容");
        await core.RunTurnsAsync();

        Assert.Single(model.Calls);
    }

    /// <summary>
    /// The labelled set (<see cref="ModerationCorpus"/>) through the whole core, in each direction: as the user's
    /// message (blocked before the model), and as the model's answer streamed a character at a time (blocked before
    /// the outbox), so a word split across stream chunks is still one word. Held to the same bar as the filter.
    /// </summary>
    [Theory]
    [InlineData("input")]
    [InlineData("output")]
    public async Task LabelledSet_InEachDirection_RecallAtLeast95Percent_FalsePositivesAtMost1Percent(string direction)
    {
        var texts = ModerationCorpus.Evasions.Select(e => e.Text).Concat(ModerationCorpus.Clean.Select(c => c.Text)).ToList();
        var model = direction == "input"
            ? ScriptedChatClient.Echo()
            : new ScriptedChatClient(messages =>
            {
                // The user asks for line N; the answer is that line, streamed one text element per chunk.
                var asked = ScriptedChatClient.UserText(messages.Last(m => m.Role == Microsoft.Extensions.AI.ChatRole.User).Text);
                var line = texts[int.Parse(asked.AsSpan(1), System.Globalization.CultureInfo.InvariantCulture)];
                var chunks = new List<string>();
                var elements = System.Globalization.StringInfo.GetTextElementEnumerator(line);
                while (elements.MoveNext())
                {
                    chunks.Add(elements.GetTextElement());
                }

                return chunks;
            });
        var settings = new Dictionary<string, string?> { ["Moderation:Lists:banned:Action"] = "Block" };
        for (var i = 0; i < ModerationCorpus.Words.Length; i++)
        {
            settings[$"Moderation:Lists:banned:Words:{i}"] = ModerationCorpus.Words[i];
        }

        await using var core = await CoreHarness.CreateAsync(model, settings);
        for (var i = 0; i < texts.Count; i++)
        {
            await core.ReceiveAsync($"m{i}", $"u{i}", direction == "input" ? texts[i] : $"#{i}");
        }

        await core.RunTurnsAsync();
        await core.SendDueAsync();

        var notice = direction == "input" ? "抱歉，这个话题我无法回答。" : "抱歉，这部分内容无法显示。";
        var blocked = core.Channel.Sent.Where(s => s.Message.Text == notice).Select(s => s.Message.ChatId).ToHashSet();
        var caught = ModerationCorpus.Evasions.Select((e, i) => blocked.Contains($"u{i}")).Count(b => b);
        var flagged = ModerationCorpus.Clean.Select((c, i) => blocked.Contains($"u{ModerationCorpus.Evasions.Length + i}")).Count(b => b);
        var recall = (double)caught / ModerationCorpus.Evasions.Length;
        var falsePositives = (double)flagged / ModerationCorpus.Clean.Length;
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"{direction}: recall {recall:P1} ({caught}/{ModerationCorpus.Evasions.Length}), false positives {falsePositives:P1} ({flagged}/{ModerationCorpus.Clean.Length})");

        Assert.True(recall >= 0.95, $"{direction} recall {recall:P1}");
        Assert.True(falsePositives <= 0.01, $"{direction} false positives {falsePositives:P1}");
    }

    /// <summary>A moderation service on loopback answering with the given handler.</summary>
    private sealed class ModerationService : IAsyncDisposable
    {
        private readonly WebApplication _app;

        private ModerationService(WebApplication app, Uri url)
        {
            _app = app;
            Url = url;
        }

        public Uri Url { get; }

        public static async Task<ModerationService> StartAsync(RequestDelegate handler)
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            builder.Logging.ClearProviders();
            var app = builder.Build();
            app.MapPost("/moderate", handler);
            await app.StartAsync();
            var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
            return new ModerationService(app, new Uri(address.TrimEnd('/') + "/moderate"));
        }

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}
