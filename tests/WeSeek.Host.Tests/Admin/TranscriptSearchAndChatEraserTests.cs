using Microsoft.Extensions.DependencyInjection;
using WeSeek.Conversations;
using WeSeek.Messaging;
using WeSeek.Security;
using WeSeek.Storage;
using WeSeek.Storage.Sql;
using WeSeek.TestKit;

namespace WeSeek.Host.Tests.Admin;

/// <summary>Transcript search and chat erasure give the same answers on SQLite and on a real PostgreSQL.</summary>
public sealed class TranscriptSearchAndChatEraserTests
{
    private static readonly ChannelId Channel = ChannelId.From("wechat");

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Search_FindsWordsInDecryptedMessagesWithinItsTimeWindowOnly(bool postgres)
    {
        await using var core = await CoreHarness.CreateAsync(
            settings: new Dictionary<string, string?> { ["Outbox:PacingInterval"] = "00:00:00" },
            postgres: postgres ? await PostgresServer.CreateDatabaseAsync() : null);
        await core.ReceiveAsync("m1", "alice", "我的快递单号是 SF999，什么时候到");
        await core.ReceiveAsync("m2", "bob", "别的事情");
        await core.RunTurnsAsync();
        await core.SendDueAsync();
        var search = new TranscriptSearch(core.Services.GetRequiredService<StoreDatabase>(), core.Services.GetRequiredService<RecordCipher>(), core.Time);

        var found = await search.SearchAsync("sf999", 7, CancellationToken.None);
        core.Time.Advance(TimeSpan.FromDays(8));
        var weekLater = await search.SearchAsync("sf999", 7, CancellationToken.None);
        var monthWindow = await search.SearchAsync("sf999", 30, CancellationToken.None);

        var chat = Assert.Single(found.Chats);
        Assert.EndsWith("/alice", chat.Chat, StringComparison.Ordinal);
        Assert.Equal(2, chat.Hits.Count); // The message and the reply that echoes it.
        Assert.Contains(chat.Hits, h => h.FromUser && h.Snippet.Contains("SF999", StringComparison.Ordinal));
        Assert.Equal(4, found.Scanned);
        Assert.False(found.Truncated);
        Assert.Empty(weekLater.Chats);
        Assert.Equal(0, weekLater.Scanned);
        Assert.Single(monthWindow.Chats);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Erase_RemovesTheChatsRowsAndMemoryOnly_RefusesAChatStillBeingAnswered_AndIsAudited(bool postgres)
    {
        await using var core = await CoreHarness.CreateAsync(
            settings: new Dictionary<string, string?> { ["Outbox:PacingInterval"] = "00:00:00" },
            postgres: postgres ? await PostgresServer.CreateDatabaseAsync() : null);
        await core.ReceiveAsync("m1", "alice", "第一条");
        await core.ReceiveAsync("m2", "alice", "第二条");
        await core.ReceiveAsync("m3", "bob", "鲍勃的");
        await core.RunTurnsAsync();
        await core.SendDueAsync();
        await core.ReceiveAsync("m4", "bob", "还没回答的");
        var eraser = core.Services.GetRequiredService<IChatEraser>();
        var transcripts = core.Services.GetRequiredService<ITranscriptReader>();
        var conversations = core.Services.GetRequiredService<IConversationStore>();
        var aliceKey = (await transcripts.ListChatsAsync(Channel, 10, CancellationToken.None)).Count;

        var erased = await eraser.EraseAsync(Channel, "alice", CancellationToken.None);
        var again = await eraser.EraseAsync(Channel, "alice", CancellationToken.None);
        var busy = await eraser.EraseAsync(Channel, "bob", CancellationToken.None);

        Assert.Equal(2, aliceKey);
        Assert.Equal(ChatErasure.Erased, erased);
        Assert.Equal(ChatErasure.NotFound, again);
        Assert.Equal(ChatErasure.Busy, busy);
        Assert.Empty(await transcripts.ReadAsync(Channel, "alice", 100, CancellationToken.None));
        Assert.Equal("bob", Assert.Single(await transcripts.ListChatsAsync(Channel, 10, CancellationToken.None)).ChatId);
        Assert.Equal(3, (await transcripts.ReadAsync(Channel, "bob", 100, CancellationToken.None)).Count); // Nothing of Bob's went.
        var record = await core.Services.GetRequiredService<AuditLog>().LastDataAsync("chat.erased", CancellationToken.None);
        Assert.Equal(2, (long?)record?["messages"]);
        // Alice's memory went with her chat: a new message starts a conversation with no history.
        await core.ReceiveAsync("m5", "alice", "新的开始");
        await core.RunTurnsAsync();
        var state = await conversations.LoadAsync(ConversationKeys.For(core.Channel.Message("m6", "alice", "x"), GroupContextScope.PerMember), CancellationToken.None);
        Assert.Equal(2, state.Window.Count);
        Assert.DoesNotContain(state.Window, e => e.Content.Contains("第一条", StringComparison.Ordinal));
    }
}
