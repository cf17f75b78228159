using System.Net.Http.Json;
using System.Text.Json;
using WeSeek.Host.Commands;
using WeSeek.TestKit;

namespace WeSeek.Host.Tests.WebChat;

public sealed class OfflineStartTests
{
    [Fact]
    public async Task Serve_WithNoModelAnywhere_StartsOnASynthesisedModelWithABanner()
    {
        using var data = new TempDirectory();
        await using var app = ServeCommand.Build(["--urls=http://127.0.0.1:0", $"--Storage:DataDirectory={data.Path}"]);
        await app.StartAsync(TestContext.Current.CancellationToken);
        using var http = TestHttp.CreateClient(WebChatEndToEndTests.BaseAddress(app));

        var status = await http.GetFromJsonAsync<JsonElement>("/api/webchat/status", TestContext.Current.CancellationToken);

        var notice = Assert.Single(status.GetProperty("notices").EnumerateArray()).GetString();
        Assert.Contains("random", notice, StringComparison.Ordinal);
        Assert.Contains("weseek model pull", notice, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(data.Path, "models", "synthetic-tiny.gguf")));

        await WebChatEndToEndTests.PostAsync(http, "c-offline", "m-1", "你好");
        var history = await WebChatEndToEndTests.WaitForRepliesAsync(http, "c-offline", 1);
        Assert.Equal(2, history.Length);
        await app.StopAsync(TestContext.Current.CancellationToken);
    }
}
