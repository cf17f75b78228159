using Microsoft.Extensions.DependencyInjection;
using WeSeek.Host.Commands;
using WeSeek.Host.Tests.WebChat;
using WeSeek.Inference.Llama.Engine;
using WeSeek.Inference.Llama.Models;
using WeSeek.TestKit;

namespace WeSeek.Host.Tests.Cli;

/// <summary><c>weseek model adapter …</c> and <c>model inspect</c> on adapters, on the real executable; the hot swap
/// into a running serve through the data directory.</summary>
public sealed class AdapterCliTests
{
    [Fact]
    public async Task InspectAndAdd_AnAdapterForAnotherBase_AreRefusedWithOneLine_AndNothingIsAdded()
    {
        using var data = new TempDirectory();
        var model = Path.Combine(data.Path, "models", "tiny.gguf");
        ModelSynthesizer.Write(model, ModelShape.Tiny);
        var fits = Path.Combine(data.Path, "fits.gguf");
        ModelSynthesizer.WriteLoraAdapter(fits, ModelShape.Tiny);
        var other = Path.Combine(data.Path, "for-0.5b.gguf");
        ModelSynthesizer.WriteLoraAdapter(other, ModelShape.Qwen05B, rank: 2);
        string[] storage = [$"--Storage:DataDirectory={data.Path}"];

        var inspectFits = await WeseekProcess.RunAsync(["model", "inspect", fits, .. storage]);
        var inspectOther = await WeseekProcess.RunAsync(["model", "inspect", other, .. storage]);
        var addOther = await WeseekProcess.RunAsync(["model", "adapter", "add", other, .. storage]);
        var addModel = await WeseekProcess.RunAsync(["model", "adapter", "add", model, .. storage]);
        var list = await WeseekProcess.RunAsync(["model", "adapter", "list", .. storage]);

        Assert.True(inspectFits.ExitCode == 0, inspectFits.Output + inspectFits.Error);
        Assert.Contains("LoRA adapter", inspectFits.Output, StringComparison.Ordinal);
        Assert.Contains("attn_q, attn_v, ffn_down in 4 blocks", inspectFits.Output, StringComparison.Ordinal);
        Assert.Contains("tiny.gguf", inspectFits.Output, StringComparison.Ordinal);
        Assert.Equal(2, inspectOther.ExitCode);
        Assert.Contains("another base model", inspectOther.Output, StringComparison.Ordinal);
        Assert.Equal(2, addOther.ExitCode);
        Assert.Contains("Not added.", addOther.Output, StringComparison.Ordinal);
        Assert.Equal(2, addModel.ExitCode);
        Assert.Contains("is not a LoRA adapter", addModel.Output, StringComparison.Ordinal);
        Assert.Contains("No adapters", list.Output, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(data.Path, AdapterManifest.FileName)));
    }

    [Fact]
    public async Task AdapterAddAndRm_ReachARunningServe_WithoutARestart_AndItKeepsAnswering()
    {
        using var data = new TempDirectory();
        var model = Path.Combine(data.Path, "tiny.gguf");
        ModelSynthesizer.Write(model, ModelShape.Tiny);
        var adapter = Path.Combine(data.Path, "lora.gguf");
        ModelSynthesizer.WriteLoraAdapter(adapter, ModelShape.Tiny);
        string[] storage = [$"--Storage:DataDirectory={data.Path}", $"--Model:Llama:ModelPath={model}"];
        await using var app = ServeCommand.Build(["--urls=http://127.0.0.1:0", "--Model:MaxOutputTokens=64", .. storage]);
        await app.StartAsync(TestContext.Current.CancellationToken);
        var engine = await app.Services.GetRequiredService<LlamaEngineHost>().GetEngineAsync(TestContext.Current.CancellationToken);
        using var http = TestHttp.CreateClient(WebChatEndToEndTests.BaseAddress(app));

        var add = await WeseekProcess.RunAsync(["model", "adapter", "add", adapter, "--scale", "0.5", .. storage]);
        await WaitUntilAsync(() => engine.Adapters.Count == 1);
        var afterAdd = new AdapterManifest(data.Path).Read();
        var applied = engine.Adapters[0].Scale;
        var list = await WeseekProcess.RunAsync(["model", "adapter", "list", .. storage]);
        await WebChatEndToEndTests.PostAsync(http, "c-lora", "m-1", "你好");
        var history = await WebChatEndToEndTests.WaitForRepliesAsync(http, "c-lora", 1);
        var rm = await WeseekProcess.RunAsync(["model", "adapter", "rm", "lora.gguf", .. storage]);
        await WaitUntilAsync(() => engine.Adapters.Count == 0);

        Assert.True(add.ExitCode == 0, add.Output + add.Error);
        Assert.Equal(0.5f, Assert.Single(afterAdd).Scale);
        Assert.Equal(0.5f, applied);
        Assert.Contains($"lora.gguf: {adapter}", list.Output, StringComparison.Ordinal);
        Assert.Contains("adapters", list.Output, StringComparison.Ordinal); // Where it is listed from (the table may wrap it).
        Assert.Equal(2, history.Length);
        Assert.True(rm.ExitCode == 0, rm.Output + rm.Error);
        Assert.Empty(new AdapterManifest(data.Path).Read());
        await app.StopAsync(TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task Serve_AppliesConfiguredAdaptersAtStart_AndRefusesToStartWithOneForAnotherBase()
    {
        using var data = new TempDirectory();
        var model = Path.Combine(data.Path, "tiny.gguf");
        ModelSynthesizer.Write(model, ModelShape.Tiny);
        var fits = Path.Combine(data.Path, "fits.gguf");
        ModelSynthesizer.WriteLoraAdapter(fits, ModelShape.Tiny);
        var other = Path.Combine(data.Path, "other.gguf");
        ModelSynthesizer.WriteLoraAdapter(other, ModelShape.Tiny, architecture: "llama");
        string[] common = ["--urls=http://127.0.0.1:0", $"--Storage:DataDirectory={data.Path}", $"--Model:Llama:ModelPath={model}"];

        await using (var app = ServeCommand.Build([.. common, $"--Model:Llama:Adapters:0:Path={fits}", "--Model:Llama:Adapters:0:Scale=0.25"]))
        {
            await app.StartAsync(TestContext.Current.CancellationToken);
            var engine = await app.Services.GetRequiredService<LlamaEngineHost>().GetEngineAsync(TestContext.Current.CancellationToken);
            Assert.Equal(0.25f, Assert.Single(engine.Adapters).Scale);
            await app.StopAsync(TestContext.Current.CancellationToken);
        }

        await using var refused = ServeCommand.Build([.. common, $"--Model:Llama:Adapters:0:Path={other}"]);
        var error = await Assert.ThrowsAnyAsync<Exception>(() => refused.StartAsync(TestContext.Current.CancellationToken));
        Assert.Contains("Model:Llama:Adapters", error.Message, StringComparison.Ordinal);
        Assert.Contains("made for a llama model", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ABadManifest_IsRefusedWithALoggedLine_AndTheRunningEngineKeepsItsAdaptersAndAnswers()
    {
        using var data = new TempDirectory();
        var model = Path.Combine(data.Path, "tiny.gguf");
        ModelSynthesizer.Write(model, ModelShape.Tiny);
        var fits = Path.Combine(data.Path, "fits.gguf");
        ModelSynthesizer.WriteLoraAdapter(fits, ModelShape.Tiny);
        var manifest = new AdapterManifest(data.Path);
        manifest.Write([new LoraAdapterOptions { Path = fits }]); // Read at start.
        var logs = new CapturingLoggerProvider();
        // Short answers: random weights under a random adapter may never end one before Model:MaxOutputTokens.
        await using var app = ServeCommand.Build(["--urls=http://127.0.0.1:0", $"--Storage:DataDirectory={data.Path}", $"--Model:Llama:ModelPath={model}", "--Model:MaxOutputTokens=64"],
            services => services.AddSingleton<Microsoft.Extensions.Logging.ILoggerProvider>(logs));
        await app.StartAsync(TestContext.Current.CancellationToken);
        var engine = await app.Services.GetRequiredService<LlamaEngineHost>().GetEngineAsync(TestContext.Current.CancellationToken);
        using var http = TestHttp.CreateClient(WebChatEndToEndTests.BaseAddress(app));
        Assert.Equal(fits, Assert.Single(engine.Adapters).File.Path);

        // Written by hand, past the verb's checks: a model file where an adapter should be.
        manifest.Write([new LoraAdapterOptions { Path = fits }, new LoraAdapterOptions { Path = model }]);
        await WaitUntilAsync(() => logs.Lines.Any(l => l.StartsWith("4151 ", StringComparison.Ordinal)));
        await File.WriteAllTextAsync(manifest.FilePath, "{ not json", TestContext.Current.CancellationToken);
        await WaitUntilAsync(() => logs.Lines.Count(l => l.StartsWith("4151 ", StringComparison.Ordinal)) >= 2);
        await WebChatEndToEndTests.PostAsync(http, "c-bad", "m-1", "你好");
        var history = await WebChatEndToEndTests.WaitForRepliesAsync(http, "c-bad", 1);

        var refusals = logs.Lines.Where(l => l.StartsWith("4151 ", StringComparison.Ordinal)).ToList();
        Assert.Contains("tiny.gguf is not a LoRA adapter", refusals[0], StringComparison.Ordinal);
        Assert.Contains("is not a list of adapters", refusals[1], StringComparison.Ordinal);
        Assert.Equal(fits, Assert.Single(engine.Adapters).File.Path);
        Assert.Equal(2, history.Length);
        await app.StopAsync(TestContext.Current.CancellationToken);
    }

    private sealed class CapturingLoggerProvider : Microsoft.Extensions.Logging.ILoggerProvider
    {
        public System.Collections.Concurrent.ConcurrentQueue<string> Lines { get; } = new();

        public Microsoft.Extensions.Logging.ILogger CreateLogger(string categoryName) => new Logger(this);

        public void Dispose()
        {
        }

        private sealed class Logger(CapturingLoggerProvider owner) : Microsoft.Extensions.Logging.ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(Microsoft.Extensions.Logging.LogLevel logLevel) => logLevel >= Microsoft.Extensions.Logging.LogLevel.Information;

            public void Log<TState>(Microsoft.Extensions.Logging.LogLevel logLevel, Microsoft.Extensions.Logging.EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                owner.Lines.Enqueue($"{eventId.Id} {formatter(state, exception)}");
        }
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        for (var i = 0; i < 200 && !condition(); i++)
        {
            await Task.Delay(50, TestContext.Current.CancellationToken); // The file watch and the next step boundary.
        }

        Assert.True(condition(), "the running engine did not pick up the adapter manifest within 10 s");
    }
}
