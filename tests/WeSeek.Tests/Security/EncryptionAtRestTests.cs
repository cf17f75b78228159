using System.Text;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using WeSeek.Conversations;
using WeSeek.Security;
using WeSeek.Tests.Inbox;
using WeSeek.Storage.Sqlite;
using WeSeek.TestKit;

namespace WeSeek.Tests.Security;

public sealed class EncryptionAtRestTests
{
    private const string Secret = "canary-aurora-5821";
    private const string Text = "暗号 " + Secret + " 请记住";

    private static readonly string Key1 = Convert.ToBase64String(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray());
    private static readonly string Key2 = Convert.ToBase64String(Enumerable.Range(101, 32).Select(i => (byte)i).ToArray());

    [Fact]
    public async Task RawDatabaseAndWal_AfterATurn_HoldNoPlaintextOfTheMessage()
    {
        await using var harness = await CoreHarness.CreateAsync();
        await harness.ReceiveAsync("m1", "alice", Text);
        await harness.RunTurnsAsync();
        await harness.SendDueAsync();

        // The stores still read it back: the scan below is not passing because nothing was stored.
        Assert.Equal("答：" + Text, Assert.Single(harness.Channel.Sent).Message.Text);
        var transcript = await harness.Services.GetRequiredService<ITranscriptReader>().ReadAsync(harness.Channel.Id, "alice", 10, CancellationToken.None);
        Assert.Equal([Text, "答：" + Text], transcript.Select(e => e.Text));
        Assert.Equal(2, await DurableInboxTests.CountAsync(harness, "SELECT COUNT(*) FROM history WHERE key_id IS NOT NULL"));
        Assert.Equal(1, await DurableInboxTests.CountAsync(harness, "SELECT COUNT(*) FROM inbox WHERE key_id IS NOT NULL"));
        Assert.Equal(1, await DurableInboxTests.CountAsync(harness, "SELECT COUNT(*) FROM outbox WHERE key_id IS NOT NULL"));

        var path = harness.Services.GetRequiredService<SqliteDatabase>().Path;
        AssertNoPlaintextInDatabase(path);

        await DurableInboxTests.ScalarAsync<long>(harness, "PRAGMA wal_checkpoint(PASSIVE)");
        AssertNoPlaintextInDatabase(path);
    }

    [Fact]
    public async Task PagesWaitingForContinue_AreEncryptedToo()
    {
        // A long answer on a one-message-per-trigger channel: most of it waits in the continuations table.
        var longText = string.Join("\n", Enumerable.Range(0, 40).Select(i => $"第{i}行 {Secret} 请记住"));
        await using var harness = await CoreHarness.CreateAsync(capabilities: new WeSeek.Messaging.ChannelCapabilities { MaxTextLength = 80, MaxMessagesPerTrigger = 1 });
        await harness.ReceiveAsync("m1", "alice", longText);
        await harness.RunTurnsAsync();
        Assert.Equal(1, await DurableInboxTests.CountAsync(harness, "SELECT COUNT(*) FROM continuations WHERE key_id IS NOT NULL"));

        var path = harness.Services.GetRequiredService<SqliteDatabase>().Path;
        await DurableInboxTests.ScalarAsync<long>(harness, "PRAGMA wal_checkpoint(PASSIVE)");
        AssertNoPlaintextInDatabase(path);

        // And they still read back for 「继续」.
        await harness.ReceiveAsync("m2", "alice", "继续");
        await harness.RunTurnsAsync();
        Assert.Equal(2, await DurableInboxTests.CountAsync(harness, "SELECT COUNT(*) FROM outbox"));
    }

    [Fact]
    public async Task DefaultKeyFile_CreatedOwnerOnlyInTheDataDirectory_AndReusedOnRestart()
    {
        using var directory = new TempDirectory();
        string firstId;
        await using (var harness = await CoreHarness.CreateAsync(dataDirectory: directory.Path))
        {
            await harness.ReceiveAsync("m1", "alice", Text);
            firstId = harness.Services.GetRequiredService<KeyRing>().CurrentId;
        }

        var keyFile = Path.Combine(directory.Path, KeyRingLoader.DefaultKeyFileName);
        Assert.True(File.Exists(keyFile));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(keyFile));
        }

        await using var restarted = await CoreHarness.CreateAsync(dataDirectory: directory.Path);
        Assert.Equal(firstId, restarted.Services.GetRequiredService<KeyRing>().CurrentId);
        var transcript = await restarted.Services.GetRequiredService<ITranscriptReader>().ReadAsync(restarted.Channel.Id, "alice", 10, CancellationToken.None);
        Assert.Equal(Text, Assert.Single(transcript).Text);
    }

    [Fact]
    public async Task KeyRotation_OldRecordsStayReadable_NewRecordsUseTheNewKey()
    {
        using var directory = new TempDirectory();
        await using (var before = await CoreHarness.CreateAsync(dataDirectory: directory.Path, settings: Keys(Key1)))
        {
            await before.ReceiveAsync("m1", "alice", "旧消息");
            await before.RunTurnsAsync();
        }

        await using var after = await CoreHarness.CreateAsync(dataDirectory: directory.Path, settings: Keys(Key1 + "," + Key2));
        await after.ReceiveAsync("m2", "alice", "新消息");
        await after.RunTurnsAsync();

        var transcript = await after.Services.GetRequiredService<ITranscriptReader>().ReadAsync(after.Channel.Id, "alice", 10, CancellationToken.None);
        Assert.Equal(["旧消息", "答：旧消息", "新消息", "答：新消息"], transcript.Select(e => e.Text));
        Assert.Equal(IdOf(Key1), await DurableInboxTests.ScalarAsync<string>(after, "SELECT key_id FROM inbox WHERE external_id = 'm1'"));
        Assert.Equal(IdOf(Key2), await DurableInboxTests.ScalarAsync<string>(after, "SELECT key_id FROM inbox WHERE external_id = 'm2'"));
        Assert.Equal(IdOf(Key2), await DurableInboxTests.ScalarAsync<string>(after, "SELECT key_id FROM history ORDER BY id DESC LIMIT 1"));
    }

    [Fact]
    public async Task Read_RecordWithAKeyNoLongerConfigured_FailsNamingTheKeyId()
    {
        using var directory = new TempDirectory();
        await using (var before = await CoreHarness.CreateAsync(dataDirectory: directory.Path, settings: Keys(Key1)))
        {
            await before.ReceiveAsync("m1", "alice", Text);
        }

        await using var after = await CoreHarness.CreateAsync(dataDirectory: directory.Path, settings: Keys(Key2));
        var error = await Assert.ThrowsAsync<RecordDecryptionException>(() =>
            after.Services.GetRequiredService<ITranscriptReader>().ReadAsync(after.Channel.Id, "alice", 10, CancellationToken.None));
        Assert.Equal(IdOf(Key1), error.KeyId);
        Assert.Contains(IdOf(Key1), error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Read_CiphertextCopiedToAnotherRow_FailsAuthentication()
    {
        await using var harness = await CoreHarness.CreateAsync();
        await harness.ReceiveAsync("m1", "alice", "第一条");
        await harness.ReceiveAsync("m2", "alice", "第二条");
        await DurableInboxTests.ScalarAsync<object?>(harness,
            "UPDATE inbox SET text = (SELECT text FROM inbox WHERE external_id = 'm1') WHERE external_id = 'm2'");

        var error = await Assert.ThrowsAsync<RecordDecryptionException>(() =>
            harness.Services.GetRequiredService<ITranscriptReader>().ReadAsync(harness.Channel.Id, "alice", 10, CancellationToken.None));
        Assert.Contains("altered or moved", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExistingPlaintextDatabase_OldRowsReadAsTheyAre_NewRowsEncrypted()
    {
        using var directory = new TempDirectory();
        // The inbox as the first release created it: no key_id column, text in the clear.
        await using (var connection = new SqliteConnection($"Data Source={Path.Combine(directory.Path, "weseek.db")};Pooling=False"))
        {
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = """
                CREATE TABLE inbox (
                    id INTEGER PRIMARY KEY, channel TEXT NOT NULL, external_id TEXT NOT NULL, account TEXT NOT NULL,
                    chat_id TEXT NOT NULL, sender_id TEXT NOT NULL, conversation TEXT NOT NULL, is_group INTEGER NOT NULL,
                    kind TEXT NOT NULL, text TEXT NOT NULL, sent_at INTEGER NOT NULL, received_at INTEGER NOT NULL,
                    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'failed')),
                    attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at INTEGER NOT NULL DEFAULT 0, completed_at INTEGER, error TEXT,
                    UNIQUE (channel, external_id));
                INSERT INTO inbox (channel, external_id, account, chat_id, sender_id, conversation, is_group, kind, text, sent_at, received_at)
                VALUES ('wechat', 'old-1', 'acct', 'alice', 'alice', 'wechat:acct:alice', 0, 'Text', '升级前的消息', 0, 0);
                """;
            await command.ExecuteNonQueryAsync();
        }

        await using var harness = await CoreHarness.CreateAsync(dataDirectory: directory.Path);
        await harness.RunTurnsAsync();
        await harness.SendDueAsync();

        Assert.Equal("答：升级前的消息", Assert.Single(harness.Channel.Sent).Message.Text);
        Assert.Equal(0, await DurableInboxTests.CountAsync(harness, "SELECT COUNT(*) FROM inbox WHERE key_id IS NOT NULL"));
        Assert.Equal(1, await DurableInboxTests.CountAsync(harness, "SELECT COUNT(*) FROM outbox WHERE key_id IS NOT NULL"));
        Assert.Equal(0, await DurableInboxTests.CountAsync(harness, "SELECT COUNT(*) FROM history WHERE key_id IS NULL"));
    }

    [Fact]
    public async Task Start_KeyFileMissing_FailsNamingTheKeyAndVariable()
    {
        using var directory = new TempDirectory();
        var error = await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            await using var harness = await CoreHarness.CreateAsync(settings: new Dictionary<string, string?>
            {
                ["Security:Encryption:KeyFile"] = Path.Combine(directory.Path, "missing.key"),
            });
            _ = harness.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<EncryptionOptions>>().Value;
        });
        Assert.Contains("WESEEK__Security__Encryption__KeyFile", error.Message, StringComparison.Ordinal);
    }

    private static Dictionary<string, string?> Keys(string keys) => new() { ["Security:Encryption:Keys"] = keys };

    private static string IdOf(string base64) => KeyRing.IdOf(Convert.FromBase64String(base64));

    private static void AssertNoPlaintextInDatabase(string path)
    {
        foreach (var (name, bytes) in SqliteFiles.ReadAll(path))
        {
            Assert.True(bytes.AsSpan().IndexOf(Encoding.UTF8.GetBytes(Secret)) < 0, $"{name} holds the message in plaintext.");
            Assert.True(bytes.AsSpan().IndexOf(Encoding.UTF8.GetBytes("请记住")) < 0, $"{name} holds the message in plaintext.");
        }
    }
}
