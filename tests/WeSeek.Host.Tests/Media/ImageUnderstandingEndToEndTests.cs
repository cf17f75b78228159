using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;
using WeSeek.Channels.WeChatCrypto;
using WeSeek.TestKit;

namespace WeSeek.Host.Tests.Media;

/// <summary>
/// Pictures sent to a 公众号, through the whole product (Kestrel on loopback, SQLite, pipeline, outbox): fetched
/// from the fake WeChat media API, described by a vision stub speaking the OpenAI chat completions API, answered
/// with 「图片描述：…」, cached by the image's hash, and carried into the next question's context.
/// </summary>
public sealed class ImageUnderstandingEndToEndTests
{
    private const string Token = "weseektoken";
    private const string AesKey = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
    private const string AppId = "wx0123456789abcdef";
    private const string Path = "/wechat/mp/demo";
    private const string Description = "一只橘猫趴在笔记本电脑的键盘上。";
    private static readonly WeChatMessageCrypto Crypto = new(Token, AesKey, AppId);
    private static readonly byte[] Png = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 1, 2, 3];

    [Fact]
    public async Task Picture_DescribedByTheVisionEndpoint_CachedByHash_AndTheFollowUpPromptCarriesTheDescription()
    {
        await using var env = await Env.StartAsync();
        env.WeChat.AddMedia("media-1", Png, "image/png");
        env.WeChat.AddMedia("media-2", [.. Png], "image/png");

        var first = await env.PostAsync(FakeWeChatServer.ImageMessage("gh_demo", "o-user", "media-1", 10, TimeProvider.System.GetUtcNow()));
        var second = await env.PostAsync(FakeWeChatServer.ImageMessage("gh_demo", "o-user", "media-2", 11, TimeProvider.System.GetUtcNow()));
        var followUp = await env.PostAsync(FakeWeChatServer.TextMessage("gh_demo", "o-user", "它是什么颜色的？", 12, TimeProvider.System.GetUtcNow()));

        Assert.Equal("图片描述：" + Description, first);
        Assert.Equal("图片描述：" + Description, second);

        // One call for two identical pictures: the second was served from the cache.
        var request = Assert.Single(env.Vision.Requests);
        Assert.Equal("qwen2.5-vl", request["model"]!.GetValue<string>());
        Assert.Equal("Bearer vision-key", Assert.Single(env.Vision.Authorizations));
        var parts = Assert.Single(request["messages"]!.AsArray())!["content"]!.AsArray();
        Assert.Contains(parts, p => p!["type"]!.GetValue<string>() == "text" && p["text"]!.GetValue<string>() == "请用中文简要描述这张图片");
        var image = Assert.Single(parts, p => p!["type"]!.GetValue<string>() == "image_url")!;
        Assert.Equal("data:image/png;base64," + Convert.ToBase64String(Png), image["image_url"]!["url"]!.GetValue<string>());

        // The chat model was not called for the pictures; the follow-up's prompt has the description in its history.
        var chat = Assert.Single(env.Model.Requests);
        var earlier = chat["messages"]!.AsArray().SkipLast(1).Select(m => ContentOf(m!["content"])).ToList();
        Assert.Contains(earlier, c => c.Contains("图片描述：" + Description, StringComparison.Ordinal));
        Assert.StartsWith("你说：它是什么颜色的？", followUp, StringComparison.Ordinal);

        // The one call to the vision model is in the audit log, by hashes.
        var audit = Assert.Single(await env.ReadAuditAsync("vision.call"));
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Png)), audit["imageSha256"]!.GetValue<string>());
        Assert.Equal("described", audit["outcome"]!.GetValue<string>());
        Assert.DoesNotContain("橘猫", audit.ToJsonString(), StringComparison.Ordinal);

        // Cached encrypted, like message bodies.
        var (blob, keyId) = await env.ReadCacheAsync();
        Assert.NotNull(keyId);
        Assert.Equal(-1, blob.AsSpan().IndexOf(Encoding.UTF8.GetBytes("橘猫")));
    }

    [Fact]
    public async Task VisionEndpointDown_ThePictureIsAnsweredFromItsText()
    {
        await using var env = await Env.StartAsync();
        env.Vision.Down = true;
        env.WeChat.AddMedia("media-1", Png, "image/png");

        var reply = await env.PostAsync(FakeWeChatServer.ImageMessage("gh_demo", "o-user", "media-1", 20, TimeProvider.System.GetUtcNow()));

        Assert.StartsWith("你说：[图片]", reply, StringComparison.Ordinal);
        Assert.DoesNotContain("图片描述", reply, StringComparison.Ordinal);
    }

    private static string ContentOf(JsonNode? content) => content switch
    {
        JsonValue value => value.GetValue<string>(),
        JsonArray parts => string.Concat(parts.Select(p => p?["text"]?.GetValue<string>() ?? "")),
        _ => "",
    };

    /// <summary>The host with the 公众号 <c>demo</c>, its chat model and its vision model both fake OpenAI servers.</summary>
    private sealed class Env(WeSeekTestHost host, FakeWeChatServer weChat, FakeOpenAiServer model, FakeOpenAiServer vision) : IAsyncDisposable
    {
        public FakeWeChatServer WeChat => weChat;

        public FakeOpenAiServer Model => model;

        public FakeOpenAiServer Vision => vision;

        private string Database => System.IO.Path.Combine(host.Data.Path, "weseek.db");

        public static async Task<Env> StartAsync()
        {
            var weChat = await FakeWeChatServer.StartAsync();
            var model = await FakeOpenAiServer.StartAsync();
            model.Script = messages => ["你说：", ScriptedChatClient.UserText(messages[^1].Content)];
            var vision = await FakeOpenAiServer.StartAsync();
            vision.Script = _ => [Description];
            var host = await WeSeekTestHost.StartAsync(
            [
                "--OfficialAccount:Accounts:demo:Token=" + Token,
                "--OfficialAccount:Accounts:demo:EncodingAesKey=" + AesKey,
                "--OfficialAccount:Accounts:demo:AppId=" + AppId,
                "--OfficialAccount:Accounts:demo:AppSecret=secret",
                "--OfficialAccount:ApiBaseUrl=" + weChat.BaseUrl,
                // With no budget every reply goes through the 客服 API, so none depends on how busy the machine is.
                "--OfficialAccount:PassiveReplyBudget=00:00:00",
                "--OfficialAccount:Accounts:demo:Typing=false",
                "--Context:IncludeCurrentTime=false",
                "--Model:Remote:BaseUrl=" + model.BaseUrl,
                "--Vision:Endpoint=" + vision.BaseUrl,
                "--Vision:Model=qwen2.5-vl",
                "--Vision:ApiKey=vision-key",
            ]);
            return new Env(host, weChat, model, vision);
        }

        /// <summary>Posts a callback and waits for the reply it causes (sent through the 客服 API).</summary>
        public async Task<string> PostAsync(string xml)
        {
            var before = WeChat.SentTexts.Count;
            var now = TimeProvider.System.GetUtcNow();
            var (url, body) = FakeWeChatServer.Callback(Path, Token, Crypto, xml, now, FakeWeChatServer.NextNonce(), "o-user");
            using var response = await host.Http.PostAsync(url, new StringContent(body, Encoding.UTF8, "text/xml"));
            Assert.Equal("success", await response.Content.ReadAsStringAsync());
            await WeSeekTestHost.WaitUntilAsync(() => WeChat.SentTexts.Count > before);
            return WeChat.SentTexts[before];
        }

        public async Task<(byte[] Blob, string? KeyId)> ReadCacheAsync()
        {
            await using var connection = new SqliteConnection($"Data Source={Database};Mode=ReadOnly");
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT description, key_id FROM image_descriptions;";
            await using var reader = await command.ExecuteReaderAsync();
            Assert.True(await reader.ReadAsync());
            var result = (reader.GetFieldValue<byte[]>(0), reader.IsDBNull(1) ? null : reader.GetString(1));
            Assert.False(await reader.ReadAsync());
            return result;
        }

        public async Task<List<JsonObject>> ReadAuditAsync(string kind)
        {
            await using var connection = new SqliteConnection($"Data Source={Database};Mode=ReadOnly");
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT data FROM audit WHERE kind = $kind ORDER BY id;";
            command.Parameters.AddWithValue("$kind", kind);
            var records = new List<JsonObject>();
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                records.Add(JsonNode.Parse(reader.GetString(0))!.AsObject());
            }

            return records;
        }

        public async ValueTask DisposeAsync()
        {
            await host.DisposeAsync();
            await weChat.DisposeAsync();
            await model.DisposeAsync();
            await vision.DisposeAsync();
        }
    }
}
