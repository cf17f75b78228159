using Microsoft.Extensions.AI;
using WeSeek.Inference.Llama.Engine;
using WeSeek.TestKit;

namespace WeSeek.Inference.Llama.Tests.Engine;

/// <summary>Per-conversation KV cache reuse on real llama.cpp with the synthesised tiny model.</summary>
public sealed class KvReuseTests : IAsyncLifetime
{
    private LlamaEngineHost _host = null!;
    private LlamaChatClient _client = null!;

    public async ValueTask InitializeAsync()
    {
        // Parking off here: dropping a kept cache forgets it (parking is tested on its own below).
        _host = LlamaChatClientTests.CreateHost(new LlamaEngineOptions { ModelPath = TinyModel.File, ContextSize = 8192, MaxSequences = 4, MaxKeptConversations = 8, MaxParkedInMemory = 0, MaxParkedOnDisk = 0 });
        await _host.StartAsync(TestContext.Current.CancellationToken);
        _client = new LlamaChatClient(_host);
    }

    public async ValueTask DisposeAsync() => await _host.DisposeAsync();

    private async Task<(string Text, int Cached, int Prompt)> TurnAsync(string? conversationId, List<ChatMessage> history)
    {
        var response = await _client.GetResponseAsync(history, new ChatOptions { ConversationId = conversationId, MaxOutputTokens = 12, Seed = 5 }, TestContext.Current.CancellationToken);
        return (response.Text, (int)(response.Usage?.CachedInputTokenCount ?? -1), (int)(response.Usage?.InputTokenCount ?? -1));
    }

    private async Task<int> PromptLengthAsync(List<ChatMessage> history)
    {
        var engine = await _host.GetEngineAsync(TestContext.Current.CancellationToken);
        return R1PromptBuilder.Tokenize(engine.Context, engine.Prompts.Render(history)).Length;
    }

    [Fact]
    public async Task SecondTurn_ReusesItsCache_AndPrefillsOnlyTheNewPart()
    {
        List<ChatMessage> history = [new(ChatRole.User, "第一个问题，请详细回答。")];
        var first = await TurnAsync("conv-a", history);
        Assert.Equal(0, first.Cached);

        history.Add(new ChatMessage(ChatRole.Assistant, first.Text));
        history.Add(new ChatMessage(ChatRole.User, "第二个问题"));
        var second = await TurnAsync("conv-a", history);

        // Everything up to the first answer's opening <think> was kept: the prompt of turn 1 less "<think>\n".
        var firstPrompt = await PromptLengthAsync([new(ChatRole.User, "第一个问题，请详细回答。")]);
        Assert.InRange(second.Cached, firstPrompt - 3, second.Prompt - 1);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task AnswerPrefilledAhead_NextMessagePrefillsOnlyItself_WithTheSameTokensAsAFullPrefill(bool prefillAnswers)
    {
        var host = LlamaChatClientTests.CreateHost(new LlamaEngineOptions { ModelPath = TinyModel.File, ContextSize = 4096, MaxSequences = 2, PrefillAnswers = prefillAnswers });
        await using (host)
        {
            var engine = await host.GetEngineAsync(TestContext.Current.CancellationToken);
            using var client = new LlamaChatClient(host);
            var greedy = new ChatOptions { ConversationId = "ahead", MaxOutputTokens = 16, Temperature = 0f, Seed = 3 };
            List<ChatMessage> history = [new(ChatRole.User, "请介绍一下你自己，越详细越好。")];
            var first = await client.GetResponseAsync(history, greedy, TestContext.Current.CancellationToken);
            history.Add(new ChatMessage(ChatRole.Assistant, first.Text));
            var historyTokens = R1PromptBuilder.Tokenize(engine.Context, engine.Prompts.RenderHistory(history)).Length;
            await engine.UntilIdleAsync(TestContext.Current.CancellationToken); // The user reads; the engine decodes the answer.

            history.Add(new ChatMessage(ChatRole.User, "好的"));
            var second = await client.GetResponseAsync(history, greedy, TestContext.Current.CancellationToken);
            var fresh = await client.GetResponseAsync(history, new ChatOptions { MaxOutputTokens = 16, Temperature = 0f, Seed = 3 }, TestContext.Current.CancellationToken);

            Assert.Equal(fresh.Text, second.Text);
            if (prefillAnswers)
            {
                // The whole history, answer included, came from the cache.
                Assert.Equal(historyTokens, second.Usage?.CachedInputTokenCount);
            }
            else
            {
                // Only up to where the first answer began: its tokens are decoded again with the new message.
                Assert.True(second.Usage?.CachedInputTokenCount < historyTokens - 5);
            }
        }
    }

    [Fact]
    public async Task OtherConversation_WithTheSamePrefix_NeverUsesThatCache()
    {
        List<ChatMessage> history = [new(ChatRole.User, "同样的开头")];
        var first = await TurnAsync("conv-owner", history);
        history.Add(new ChatMessage(ChatRole.Assistant, first.Text));
        history.Add(new ChatMessage(ChatRole.User, "继续"));

        var stranger = await TurnAsync("conv-stranger", history);
        var anonymous = await TurnAsync(null, history);
        var owner = await TurnAsync("conv-owner", history);

        Assert.Equal(0, stranger.Cached);
        Assert.Equal(0, anonymous.Cached);
        Assert.True(owner.Cached > 0);
    }

    [Fact]
    public async Task InterleavedConversations_EachReusesOnlyItsOwnHistory()
    {
        var random = new Random(27148);
        var histories = Enumerable.Range(0, 6).ToDictionary(i => $"conv-{i}", i => new List<ChatMessage> { new(ChatRole.User, $"我是第{i}位用户，我的暗号是{i * 7919}。") });
        var turns = histories.Keys.SelectMany(k => Enumerable.Repeat(k, 3)).OrderBy(_ => random.Next()).ToList();
        var seen = new HashSet<string>();
        foreach (var id in turns)
        {
            var history = histories[id];
            var ownPrefix = history.Count == 1 ? 0 : await PromptLengthAsync(history.Take(history.Count - 2).ToList()) - 3;
            var result = await TurnAsync(id, history);
            if (seen.Add(id))
            {
                Assert.Equal(0, result.Cached);
            }
            else
            {
                // At least its own previous turn's prompt, never more than this prompt: another conversation's
                // cache would match only the shared start (BOS, "<｜User｜>我是第"), far less.
                Assert.InRange(result.Cached, ownPrefix, result.Prompt - 1);
            }

            history.Add(new ChatMessage(ChatRole.Assistant, result.Text));
            history.Add(new ChatMessage(ChatRole.User, $"第{history.Count}句"));
        }
    }

    [Fact]
    public async Task KeptCaches_BeyondTheLimit_DropTheLeastRecentlyUsed()
    {
        // 8 kept at most: conversation 0, the least recently used, loses its cache when a 9th finishes.
        for (var i = 0; i < 9; i++)
        {
            await TurnAsync($"lru-{i}", [new(ChatRole.User, $"用户{i}")]);
        }

        // The 9th is kept, and the 1st dropped, once its request retires (just after its answer returns).
        var engine = await _host.GetEngineAsync(TestContext.Current.CancellationToken);
        await engine.UntilIdleAsync(TestContext.Current.CancellationToken);

        var first = await TurnAsync("lru-0", [new(ChatRole.User, "用户0"), new(ChatRole.Assistant, "好"), new(ChatRole.User, "再问")]);
        var last = await TurnAsync("lru-8", [new(ChatRole.User, "用户8"), new(ChatRole.Assistant, "好"), new(ChatRole.User, "再问")]);

        Assert.Equal(0, first.Cached);
        Assert.True(last.Cached > 0);
    }

    [Fact]
    public async Task AnAnswerPrefilledAhead_DoesNotMakeItsConversationRecentlyUsed()
    {
        // Two kept at most. A speaks, then an anonymous call X; A's answer is prefilled ahead only after X (it waits
        // out its delay). When C's cache is kept, the least recently used by a message is A, not X.
        var host = LlamaChatClientTests.CreateHost(new LlamaEngineOptions
        {
            ModelPath = TinyModel.File, ContextSize = 4096, MaxSequences = 2, MaxKeptConversations = 2,
            MaxParkedInMemory = 0, MaxParkedOnDisk = 0, PrefillAnswers = true, PrefillAheadDelayMs = 1500,
        });
        await using (host)
        {
            await host.StartAsync(TestContext.Current.CancellationToken);
            var engine = await host.GetEngineAsync(TestContext.Current.CancellationToken);
            using var client = new LlamaChatClient(host);
            async Task<int> CachedAsync(string? id, List<ChatMessage> history)
            {
                var response = await client.GetResponseAsync(history, new ChatOptions { ConversationId = id, MaxOutputTokens = 8, Seed = 5 }, TestContext.Current.CancellationToken);
                return (int)(response.Usage?.CachedInputTokenCount ?? -1);
            }

            await CachedAsync("a", [new(ChatRole.User, "甲的第一句话")]);
            await CachedAsync(null, [new(ChatRole.User, "匿名调用")]);
            await engine.UntilIdleAsync(TestContext.Current.CancellationToken); // A's answer is now prefilled ahead.
            await CachedAsync("c", [new(ChatRole.User, "丙的第一句话")]);
            await engine.UntilIdleAsync(TestContext.Current.CancellationToken);

            Assert.Equal(0, await CachedAsync("a", [new(ChatRole.User, "甲的第一句话"), new(ChatRole.Assistant, "好"), new(ChatRole.User, "再问")]));
        }
    }
}

/// <summary>Parking: a dropped KV cache is saved and restored on the conversation's next message.</summary>
public sealed class KvParkingTests
{
    private static async Task<(string Text, int Cached, ParkingSnapshot Parking)> RunAsync(bool forceParking, int inMemory = 8, int onDisk = 0, string? directory = null, Action<string[]>? onParkedFiles = null)
    {
        var host = LlamaChatClientTests.CreateHost(new LlamaEngineOptions
        {
            ModelPath = TinyModel.File,
            ContextSize = 8192,
            MaxSequences = 2,
            MaxKeptConversations = 2,
            MaxParkedInMemory = inMemory,
            MaxParkedOnDisk = onDisk,
            ParkingDirectory = directory,
            // Kept and parked are compared token for token: an answer prefilled ahead in an idle moment (which one
            // run may find and the other not, by timing) would change what the next message finds cached.
            PrefillAnswers = false,
        });
        await using (host)
        {
            await host.StartAsync(TestContext.Current.CancellationToken);
            var engine = await host.GetEngineAsync(TestContext.Current.CancellationToken);
            using var client = new LlamaChatClient(host);
            var greedy = new ChatOptions { ConversationId = "owner", MaxOutputTokens = 10, Temperature = 0f, Seed = 1 };
            List<ChatMessage> history = [new(ChatRole.User, "请记住这段对话的开头，它相当长，足够测出缓存的作用。")];
            var first = await client.GetResponseAsync(history, greedy, TestContext.Current.CancellationToken);
            if (forceParking)
            {
                // Three other conversations push "owner" out of the two kept sequences.
                foreach (var other in new[] { "x", "y", "z" })
                {
                    await client.GetResponseAsync([new(ChatRole.User, other)], new ChatOptions { ConversationId = other, MaxOutputTokens = 2 }, TestContext.Current.CancellationToken);
                }

                Assert.True(engine.Parking.Parked >= 1);
                if (directory is not null)
                {
                    // The disk tier wrote files into a folder of this engine's own; once written, only the file holds
                    // the state, so the restore below reads it back from disk.
                    await WaitForWritesAsync(engine);
                    Assert.True(engine.Parking.OnDisk >= 1);
                    Assert.NotEmpty(Directory.GetFiles(directory, "*.kv", SearchOption.AllDirectories));
                    onParkedFiles?.Invoke(Directory.GetFiles(directory, "*.kv", SearchOption.AllDirectories));
                }
            }

            history.Add(new ChatMessage(ChatRole.Assistant, first.Text));
            history.Add(new ChatMessage(ChatRole.User, "继续"));
            var second = await client.GetResponseAsync(history, greedy, TestContext.Current.CancellationToken);
            return (second.Text, (int)(second.Usage?.CachedInputTokenCount ?? 0), engine.Parking);
        }
    }

    private static async Task WaitForWritesAsync(LlamaEngine engine)
    {
        // Files are written off the scheduler thread.
        for (var i = 0; i < 400 && engine.Parking.PendingWrites > 0; i++)
        {
            await Task.Delay(25, TestContext.Current.CancellationToken);
        }

        Assert.Equal(0, engine.Parking.PendingWrites);
    }

    [Fact]
    public async Task ParkedInMemory_RestoresAndContinuesExactlyAsIfKept()
    {
        var kept = await RunAsync(forceParking: false);
        var parked = await RunAsync(forceParking: true);

        Assert.True(parked.Cached > 0);
        Assert.Equal(kept.Cached, parked.Cached);
        Assert.Equal(kept.Text, parked.Text);
        Assert.Equal(0, parked.Parking.OnDisk);
    }

    [Fact]
    public async Task ParkedOnDisk_RestoresAndContinuesExactlyAsIfKept_AndTheFolderIsRemovedAtStop()
    {
        using var directory = new TempDirectory();
        var kept = await RunAsync(forceParking: false);
        var parked = await RunAsync(forceParking: true, inMemory: 0, onDisk: 8, directory: directory.Path);

        Assert.True(parked.Cached > 0);
        Assert.Equal(kept.Cached, parked.Cached);
        Assert.Equal(kept.Text, parked.Text);
        Assert.True(parked.Parking.Restored >= 1);
        Assert.Equal(0, parked.Parking.InMemory);
        Assert.Empty(Directory.GetFileSystemEntries(directory.Path));
    }

    [Fact]
    public async Task ParkedFiles_AreOwnerOnlyAndSealed_AChangedOneIsRefusedAndTheTurnPrefillsInFull()
    {
        using var directory = new TempDirectory();
        var modes = new List<UnixFileMode>();
        var parked = await RunAsync(forceParking: true, inMemory: 0, onDisk: 8, directory: directory.Path, onParkedFiles: files =>
        {
            foreach (var file in files)
            {
                modes.Add(OperatingSystem.IsWindows() ? UnixFileMode.UserRead | UnixFileMode.UserWrite : File.GetUnixFileMode(file));
                var bytes = File.ReadAllBytes(file);
                bytes[^1] ^= 0x5A; // One byte of the sealed state.
                File.WriteAllBytes(file, bytes);
            }
        });

        Assert.NotEmpty(modes);
        Assert.All(modes, mode => Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, mode));
        Assert.Equal(0, parked.Cached);
        Assert.NotEmpty(parked.Text);
    }

    [Fact]
    public async Task MemoryFull_SpillsTheLeastRecentlyUsedToDisk_WithinTheDiskCount()
    {
        using var directory = new TempDirectory();
        var host = LlamaChatClientTests.CreateHost(new LlamaEngineOptions
        {
            ModelPath = TinyModel.File,
            ContextSize = 8192,
            MaxSequences = 1,
            MaxKeptConversations = 1,
            MaxParkedInMemory = 2,
            MaxParkedOnDisk = 3,
            ParkingDirectory = directory.Path,
        });
        await using (host)
        {
            using var client = new LlamaChatClient(host);
            for (var i = 0; i < 8; i++)
            {
                await client.GetResponseAsync([new(ChatRole.User, $"第{i}位用户的问题")], new ChatOptions { ConversationId = $"c{i}", MaxOutputTokens = 2 }, TestContext.Current.CancellationToken);
            }

            // Eight conversations: one or two kept on sequences (an idle one may hold a generating slot until the
            // next request arrives), the rest parked: the newest two in memory, the next three on disk (c3 is among
            // them either way), older ones forgotten (c0 either way).
            var engine = await host.GetEngineAsync(TestContext.Current.CancellationToken);
            Assert.InRange(engine.Parking.Parked, 6, 7);
            Assert.Equal(2, engine.Parking.InMemory);
            Assert.Equal(3, engine.Parking.OnDisk);
            Assert.True(engine.Parking.DiskBytes > 0);
            await WaitForWritesAsync(engine);
            Assert.Equal(3, Directory.GetFiles(directory.Path, "*.kv", SearchOption.AllDirectories).Length);

            // One on disk comes back; the oldest was forgotten and prefills in full.
            var fromDisk = await client.GetResponseAsync([new(ChatRole.User, "第3位用户的问题"), new(ChatRole.Assistant, "好"), new(ChatRole.User, "再问")], new ChatOptions { ConversationId = "c3", MaxOutputTokens = 2 }, TestContext.Current.CancellationToken);
            var forgotten = await client.GetResponseAsync([new(ChatRole.User, "第0位用户的问题"), new(ChatRole.Assistant, "好"), new(ChatRole.User, "再问")], new ChatOptions { ConversationId = "c0", MaxOutputTokens = 2 }, TestContext.Current.CancellationToken);
            Assert.True(fromDisk.Usage?.CachedInputTokenCount > 0);
            Assert.Equal(0, forgotten.Usage?.CachedInputTokenCount ?? 0);
            Assert.True(engine.Parking.Restored >= 1);
        }
    }

    [Fact]
    public async Task FoldersLeftByAStoppedProcess_AreRemovedAtStart()
    {
        using var directory = new TempDirectory();
        var abandoned = Directory.CreateDirectory(Path.Combine(directory.Path, "engine-2147483646-0123456789abcdef")).FullName;
        await File.WriteAllBytesAsync(Path.Combine(abandoned, "1.kv"), [1, 2, 3], TestContext.Current.CancellationToken);

        var host = LlamaChatClientTests.CreateHost(new LlamaEngineOptions { ModelPath = TinyModel.File, ParkingDirectory = directory.Path });
        await using (host)
        {
            await host.StartAsync(TestContext.Current.CancellationToken);
            Assert.False(Directory.Exists(abandoned));
            Assert.Single(Directory.GetDirectories(directory.Path)); // This engine's own.
        }
    }
}
