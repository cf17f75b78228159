using System.Net.Http.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
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
        // The default model's pull goes to a closed loopback port: offline, as far as the product can tell.
        await using var app = ServeCommand.Build(["--urls=http://127.0.0.1:0", $"--Storage:DataDirectory={data.Path}", $"--Models:Endpoint=http://127.0.0.1:{TestHttp.FreePort()}/"]);
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

    [Fact]
    public async Task Serve_WithASynthesisedModelFile_ShowsTheRandomWeightsBannerInChineseAndThePageCanDismissIt()
    {
        using var data = new TempDirectory();
        var file = Path.Combine(data.Path, "my-model.gguf");
        WeSeek.Inference.Llama.Models.ModelSynthesizer.Write(file, WeSeek.Inference.Llama.Models.ModelShape.Tiny);
        await using var app = ServeCommand.Build(["--urls=http://127.0.0.1:0", $"--Storage:DataDirectory={data.Path}", "--model", file, $"--Model:Llama:ModelPath={file}"]);
        await app.StartAsync(TestContext.Current.CancellationToken);
        using var http = TestHttp.CreateClient(WebChatEndToEndTests.BaseAddress(app));

        var status = await http.GetFromJsonAsync<JsonElement>("/api/webchat/status", TestContext.Current.CancellationToken);
        var page = await http.GetStringAsync("/", TestContext.Current.CancellationToken);

        var notice = Assert.Single(status.GetProperty("notices").EnumerateArray()).GetString();
        Assert.StartsWith("当前模型是合成的随机权重模型", notice, StringComparison.Ordinal);
        Assert.Contains("random", notice, StringComparison.Ordinal);
        Assert.Contains("close.addEventListener(\"click\", () => { dismiss(text); row.remove(); });", page, StringComparison.Ordinal);
        await app.StopAsync(TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task Serve_WithNoModelAndAReachableEndpoint_PullsTheDefaultModelFirst()
    {
        using var data = new TempDirectory();
        var tiny = Path.Combine(data.Path, "served.gguf");
        WeSeek.Inference.Llama.Models.ModelSynthesizer.Write(tiny, WeSeek.Inference.Llama.Models.ModelShape.Tiny);
        var requested = new List<string>();
        var mirrorBuilder = WebApplication.CreateSlimBuilder();
        mirrorBuilder.WebHost.UseUrls("http://127.0.0.1:0");
        await using var mirror = mirrorBuilder.Build();
        mirror.MapGet("/{**path}", (string path) =>
        {
            lock (requested)
            {
                requested.Add(path);
            }

            return Results.File(tiny, "application/octet-stream", enableRangeProcessing: true);
        });
        await mirror.StartAsync(TestContext.Current.CancellationToken);

        await using var app = ServeCommand.Build(["--urls=http://127.0.0.1:0", $"--Storage:DataDirectory={data.Path}", $"--Models:Endpoint={mirror.Urls.First()}/"]);
        await app.StartAsync(TestContext.Current.CancellationToken);
        using var http = TestHttp.CreateClient(WebChatEndToEndTests.BaseAddress(app));
        var status = await http.GetFromJsonAsync<JsonElement>("/api/webchat/status", TestContext.Current.CancellationToken);

        Assert.Equal("unsloth/DeepSeek-R1-Distill-Qwen-1.5B-GGUF/resolve/main/DeepSeek-R1-Distill-Qwen-1.5B-Q4_K_M.gguf", Assert.Single(requested));
        Assert.True(File.Exists(Path.Combine(data.Path, "models", "DeepSeek-R1-Distill-Qwen-1.5B-Q4_K_M.gguf")));
        // No fallback model was made; the stand-in served as the default model is itself a synthesised file,
        // and its GGUF says so: the random-weights banner is right to show.
        Assert.False(File.Exists(Path.Combine(data.Path, "models", "synthetic-tiny.gguf")));
        Assert.Contains("random weights", Assert.Single(status.GetProperty("notices").EnumerateArray()).GetString(), StringComparison.Ordinal);
        await app.StopAsync(TestContext.Current.CancellationToken);
    }
}
