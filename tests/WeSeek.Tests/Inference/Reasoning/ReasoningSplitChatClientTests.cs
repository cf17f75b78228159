using Microsoft.Extensions.AI;
using WeSeek.Inference.Reasoning;
using WeSeek.TestKit;

namespace WeSeek.Tests.Inference.Reasoning;

public sealed class ReasoningSplitChatClientTests
{
    public static TheoryData<ThinkStart, string, string, string, bool> Cases => new()
    {
        // start, raw output, reasoning, answer, cut off
        { ThinkStart.Detect, "<think>\n想一想\n</think>\n\n答案", "想一想", "答案", false },
        { ThinkStart.Detect, "  \n<think>推理</think>答案", "推理", "答案", false },
        { ThinkStart.Detect, "直接回答，没有思考", "", "直接回答，没有思考", false },
        { ThinkStart.Detect, "\n\n答案前有空行", "", "答案前有空行", false },
        { ThinkStart.Detect, "<thinking> is not the tag", "", "<thinking> is not the tag", false },
        { ThinkStart.Detect, "<think>\n想到一半", "想到一半", "", true },
        { ThinkStart.Detect, "<think>\n\n</think>\n\n跳过了思考", "", "跳过了思考", false },
        { ThinkStart.Detect, "<think>a</think>b</think>c", "a", "b</think>c", false },
        { ThinkStart.Detect, "", "", "", false },
        { ThinkStart.Open, "推理过程\n</think>\n\n最终答案", "推理过程", "最终答案", false },
        { ThinkStart.Open, "<think>\n带开标签\n</think>答案", "带开标签", "答案", false },
        { ThinkStart.Open, "没有结束标签，被截断", "没有结束标签，被截断", "", true },
        { ThinkStart.Open, "", "", "", true },
        { ThinkStart.Open, "a < b, and </thin is not a tag </think> yes", "a < b, and </thin is not a tag", "yes", false },
        { ThinkStart.Open, "Reasoning in English.\n</think>\n\nAnswer with trailing space ", "Reasoning in English.", "Answer with trailing space ", false },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Buffered_SplitsReasoningFromAnswer(ThinkStart start, string raw, string reasoning, string answer, bool cutOff)
    {
        using var client = new ReasoningSplitChatClient(new ScriptedChatClient(_ => [raw]), start);

        var response = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "q")]);

        Assert.Equal(reasoning, ReasoningOf(response.Messages.SelectMany(m => m.Contents)));
        Assert.Equal(answer, response.Text);
        Assert.Equal(cutOff ? ChatFinishReason.Length : ChatFinishReason.Stop, response.FinishReason);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Streamed_EveryTwoChunkSplit_GivesTheBufferedResult(ThinkStart start, string raw, string reasoning, string answer, bool cutOff)
    {
        for (var cut = 0; cut <= raw.Length; cut++)
        {
            var (r, a, finish) = await StreamAsync(start, [raw[..cut], raw[cut..]]);
            Assert.True(reasoning == r, $"Reasoning differs when split at {cut}: '{r}'");
            Assert.True(answer == a, $"Answer differs when split at {cut}: '{a}'");
            Assert.Equal(cutOff ? ChatFinishReason.Length : ChatFinishReason.Stop, finish);
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Streamed_RandomAndSingleCharacterChunks_GiveTheBufferedResult(ThinkStart start, string raw, string reasoning, string answer, bool cutOff)
    {
        var random = new Random(20261128);
        var chunkings = new List<List<string>> { raw.Select(c => c.ToString()).ToList() };
        for (var i = 0; i < 200; i++)
        {
            var chunks = new List<string>();
            var at = 0;
            while (at < raw.Length)
            {
                var length = Math.Min(raw.Length - at, random.Next(0, 6));
                chunks.Add(raw.Substring(at, length));
                at += length;
            }

            chunkings.Add(chunks);
        }

        foreach (var chunks in chunkings)
        {
            var (r, a, finish) = await StreamAsync(start, chunks);
            Assert.Equal(reasoning, r);
            Assert.Equal(answer, a);
            Assert.Equal(cutOff ? ChatFinishReason.Length : ChatFinishReason.Stop, finish);
        }
    }

    [Fact]
    public async Task Streamed_ReleasesReasoningBeforeTheStreamEnds()
    {
        var seen = new List<string>();
        using var client = new ReasoningSplitChatClient(new ScriptedChatClient(_ => ["<think>第一段", "思考</th", "ink>答"]), ThinkStart.Detect);

        await foreach (var update in client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "q")]))
        {
            seen.AddRange(update.Contents.Select(c => c switch
            {
                TextReasoningContent r => "R:" + r.Text,
                TextContent t => "A:" + t.Text,
                _ => "?",
            }));
        }

        Assert.Equal(["R:第一段", "R:思考", "A:答"], seen);
    }

    [Fact]
    public async Task Streamed_InnerReasoningContent_PassesThroughAndTextIsAnswer()
    {
        using var client = new ReasoningSplitChatClient(new ReasoningServer(), ThinkStart.Open);

        var response = await client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "q")]).ToChatResponseAsync();

        Assert.Equal("服务器拆好的推理", ReasoningOf(response.Messages.SelectMany(m => m.Contents)));
        Assert.Equal("答案 </think> 原样", response.Text);
        Assert.Equal(ChatFinishReason.Stop, response.FinishReason);
    }

    [Fact]
    public async Task Streamed_UsageAndOtherContents_AreKept()
    {
        using var client = new ReasoningSplitChatClient(new ReasoningServer(), ThinkStart.Detect);

        var response = await client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "q")]).ToChatResponseAsync();

        Assert.Equal(7, response.Usage?.OutputTokenCount);
    }

    private static async Task<(string Reasoning, string Answer, ChatFinishReason? Finish)> StreamAsync(ThinkStart start, IReadOnlyList<string> chunks)
    {
        using var client = new ReasoningSplitChatClient(new ScriptedChatClient(_ => chunks), start);
        var contents = new List<AIContent>();
        ChatFinishReason? finish = null;
        await foreach (var update in client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "q")]))
        {
            Assert.DoesNotContain(update.Contents, c => c is TextContent { Text.Length: 0 } or TextReasoningContent { Text.Length: 0 });
            contents.AddRange(update.Contents);
            finish = update.FinishReason ?? finish;
        }

        return (ReasoningOf(contents), string.Concat(contents.OfType<TextContent>().Select(t => t.Text)), finish);
    }

    private static string ReasoningOf(IEnumerable<AIContent> contents) =>
        string.Concat(contents.OfType<TextReasoningContent>().Select(r => r.Text));

    /// <summary>A server with a reasoning parser: reasoning arrives as its own content, then plain text.</summary>
    private sealed class ReasoningServer : IChatClient
    {
        public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException();

        public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            await Task.Yield();
            yield return new ChatResponseUpdate(ChatRole.Assistant, [new TextReasoningContent("服务器拆好的推理")]);
            yield return new ChatResponseUpdate(ChatRole.Assistant, "答案 </think> 原样");
            yield return new ChatResponseUpdate(ChatRole.Assistant, [new UsageContent(new UsageDetails { OutputTokenCount = 7 })]) { FinishReason = ChatFinishReason.Stop };
        }

        public object? GetService(Type serviceType, object? serviceKey = null) => null;

        public void Dispose()
        {
        }
    }
}
