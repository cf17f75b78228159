using System.Diagnostics.Metrics;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using WeSeek.Channels.ILink;
using WeSeek.Messaging;
using WeSeek.Operations;
using WeSeek.TestKit;

namespace WeSeek.Tests.Channels.ILink;

/// <summary>The iLink poller against the fake iLink server with an inbox that can fail, over loopback.</summary>
public sealed class ILinkPollerTests
{
    [Fact]
    public async Task Batch_InboxFailsMidway_CursorStaysAndTheBatchIsReadAgainWithoutDuplicates()
    {
        using var data = new TempDirectory();
        await using var ilink = await FakeILinkServer.StartAsync();
        await using var services = ILinkTestServices.Create(data, ilink);
        ilink.ScriptQr("confirmed");
        await services.GetRequiredService<ILinkLogin>().RunAsync((_, _) => Task.CompletedTask, null, CancellationToken.None);
        var first = ilink.Deliver("u1", "一").ToString(System.Globalization.CultureInfo.InvariantCulture);
        var second = ilink.Deliver("u2", "二").ToString(System.Globalization.CultureInfo.InvariantCulture);
        ilink.Deliver("u3", "三");
        var sink = new FlakySink(failOnceOn: second);
        await using var channel = Channel(services);

        await channel.StartAsync(sink, CancellationToken.None);
        await WaitUntilAsync(() => ilink.Cursors.Contains("c:3"));

        Assert.Equal(["", "", "c:3"], ilink.Cursors.Take(3));
        Assert.Equal(3, sink.Stored.Count);
        Assert.Equal(2, sink.Calls.Count(c => c == first));
        Assert.Equal([AcceptOutcome.Stored, AcceptOutcome.Duplicate, AcceptOutcome.Stored, AcceptOutcome.Stored], sink.Outcomes);
    }

    [Fact]
    public void Mapper_UserMessages_MapToTextVoiceAndOther_AndTheBotsOwnAreIgnored()
    {
        var channel = ChannelId.From("ilink:default");
        var voice = Parse("""{"message_id":5,"from_user_id":"u@im.wechat","message_type":1,"create_time_ms":1764300000000,"item_list":[{"type":3,"voice_item":{"text":"语音转的文字"}}],"context_token":"t"}""");
        var image = Parse("""{"message_id":6,"from_user_id":"u@im.wechat","message_type":1,"item_list":[{"type":2,"image_item":{"media":{"encrypt_query_param":"x"}}}]}""");
        var own = Parse("""{"message_id":7,"from_user_id":"bot@im.bot","message_type":2,"item_list":[{"type":1,"text_item":{"text":"我发的"}}]}""");

        var v = ILinkMessageMapper.ToInbound(channel, "default", voice)!;
        var i = ILinkMessageMapper.ToInbound(channel, "default", image)!;

        Assert.Equal((MessageKind.Voice, "语音转的文字", "5", "u@im.wechat"), (v.Kind, v.Text, v.ExternalMessageId, v.ChatId));
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1764300000000), v.SentAt);
        Assert.Equal((MessageKind.Other, "[图片]"), (i.Kind, i.Text));
        Assert.Null(ILinkMessageMapper.ToInbound(channel, "default", own));
    }

    [Theory]
    [InlineData("2.4.8", "132104")]
    [InlineData("1.0.0", "65536")]
    public void ClientVersionHeader_IsTheVersionAs0x00MMNNPPInDecimal(string version, string header) =>
        Assert.Equal(header, ILinkApiClient.EncodeVersion(version));

    [Fact]
    public void ClientId_IsStableForTheSameChunkAndDistinctAcrossChunks()
    {
        var channel = ChannelId.From("ilink:default");
        var chunk = new OutboundMessage(41, channel, "default", "u", "a", 7, 0);

        Assert.Equal(ILinkSender.ClientId("abc", chunk), ILinkSender.ClientId("abc", chunk with { Text = "retried" }));
        Assert.NotEqual(ILinkSender.ClientId("abc", chunk), ILinkSender.ClientId("abc", chunk with { OutboxId = 42, Sequence = 1 }));
        Assert.NotEqual(ILinkSender.ClientId("abc", chunk), ILinkSender.ClientId("def", chunk));
    }

    private static ILinkMessage Parse(string json) => JsonSerializer.Deserialize<ILinkMessage>(json, ILinkJson.Options)!;

    private static ILinkChannel Channel(ServiceProvider services) => new(
        services.GetRequiredService<IOptions<ILinkOptions>>().Value, services.GetRequiredService<ILinkApiClient>(),
        services.GetRequiredService<IChannelStateStore>(), services.GetRequiredService<IChannelLease>(),
        services.GetRequiredService<IOperatorNotices>(), new ILinkMetrics(services.GetRequiredService<IMeterFactory>()),
        new ReplyInstruments(services.GetRequiredService<IMeterFactory>()), TimeProvider.System, NullLogger.Instance);

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = TimeProvider.System.GetUtcNow() + TimeSpan.FromSeconds(30);
        while (!condition())
        {
            Assert.True(TimeProvider.System.GetUtcNow() < deadline, "The poller did not get there within 30 s.");
            await Task.Delay(20);
        }
    }

    /// <summary>An inbox that stores by external id and fails once on one message, as a full disk would.</summary>
    private sealed class FlakySink(string failOnceOn) : IInboundSink
    {
        private bool _failed;

        public List<string> Calls { get; } = [];

        public List<AcceptOutcome> Outcomes { get; } = [];

        public HashSet<string> Stored { get; } = [];

        public ValueTask<AcceptResult> AcceptAsync(InboundMessage message, CancellationToken cancellationToken)
        {
            lock (Calls)
            {
                Calls.Add(message.ExternalMessageId);
                if (message.ExternalMessageId == failOnceOn && !_failed)
                {
                    _failed = true;
                    throw new IOException("disk full");
                }

                var outcome = Stored.Add(message.ExternalMessageId) ? AcceptOutcome.Stored : AcceptOutcome.Duplicate;
                Outcomes.Add(outcome);
                return ValueTask.FromResult(new AcceptResult(outcome, Stored.Count));
            }
        }
    }
}
