using WeSeek.TestKit;

namespace WeSeek.Host.Tests.Cli;

/// <summary>The <c>weseek</c> executable as an operator meets it.</summary>
public sealed class CliTests
{
    [Fact]
    public async Task Help_ListsEveryVerbWithOneLine()
    {
        var (exitCode, output, _) = await WeseekProcess.RunAsync(["--help"]);

        Assert.Equal(0, exitCode);
        Assert.Matches(@"(?m)^\s+serve\s+\S", output);
        Assert.Matches(@"(?m)^\s+chat\s+\S", output);
    }

    [Fact]
    public async Task Serve_InvalidFlag_StopsStartUpNamingTheKeyAndVariable()
    {
        using var data = new TempDirectory();
        var (exitCode, _, error) = await WeseekProcess.RunAsync(["serve", "--urls", "http://127.0.0.1:0", $"--Storage:DataDirectory={data.Path}", "--Outbox:DailyCap=0"]);

        Assert.Equal(2, exitCode);
        Assert.Contains("Outbox:DailyCap", error, StringComparison.Ordinal);
        Assert.Contains("WESEEK__Outbox__DailyCap", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--Outbox:DailyCap=-5", "Outbox:DailyCap (environment variable WESEEK__Outbox__DailyCap): ")]
    [InlineData("--Outbox:DailyCap=abc", "Outbox:DailyCap (environment variable WESEEK__Outbox__DailyCap): 'abc' is not a valid whole number")]
    [InlineData("--OfficialAccount:PassiveReplyBudget=00:00:06", "OfficialAccount:PassiveReplyBudget (environment variable WESEEK__OfficialAccount__PassiveReplyBudget): ")]
    public async Task Serve_InvalidValue_PrintsOneLineNamingKeyAndVariableWithoutStackTrace(string flag, string expected)
    {
        using var data = new TempDirectory();
        string[] account = flag.Contains("OfficialAccount", StringComparison.Ordinal)
            ? ["--OfficialAccount:Accounts:demo:Token=token", "--OfficialAccount:Accounts:demo:AppId=wx0123456789abcdef", "--OfficialAccount:Accounts:demo:ReplyMode=PassiveOnly"]
            : [];
        var (exitCode, _, error) = await WeseekProcess.RunAsync(["serve", "--urls", "http://127.0.0.1:0", $"--Storage:DataDirectory={data.Path}", flag, .. account]);

        Assert.Equal(2, exitCode);
        var line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries), l => l.StartsWith("WeSeek cannot start", StringComparison.Ordinal));
        Assert.Contains(expected, line, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", error, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_PortInUse_PrintsOneLineNamingTheAddressWithoutStackTrace()
    {
        using var data = new TempDirectory();
        using var taken = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        taken.Start();
        var url = $"http://127.0.0.1:{((System.Net.IPEndPoint)taken.LocalEndpoint).Port}";

        var (exitCode, _, error) = await WeseekProcess.RunAsync(["serve", "--urls", url, $"--Storage:DataDirectory={data.Path}", "--Model:Provider=remote"]);

        Assert.Equal(2, exitCode);
        var line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries), l => l.StartsWith("WeSeek cannot start", StringComparison.Ordinal));
        Assert.Contains(url, line, StringComparison.Ordinal);
        Assert.Contains("--urls", line, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_UnparsableEnvironmentVariable_StopsStartUpNamingTheKey()
    {
        using var data = new TempDirectory();
        var environment = new Dictionary<string, string> { ["WESEEK__Dispatcher__MaxConcurrentTurns"] = "many" };
        var (exitCode, _, error) = await WeseekProcess.RunAsync(["serve", "--urls", "http://127.0.0.1:0", $"--Storage:DataDirectory={data.Path}"], environment);

        Assert.Equal(2, exitCode);
        Assert.Contains("Dispatcher:MaxConcurrentTurns", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_BadRemoteUrl_StopsStartUpNamingTheKey()
    {
        using var data = new TempDirectory();
        var (exitCode, _, error) = await WeseekProcess.RunAsync(["serve", "--urls", "http://127.0.0.1:0", $"--Storage:DataDirectory={data.Path}", "--Model:Provider=remote", "--Model:Remote:BaseUrl=ftp://example/v1"]);

        Assert.Equal(2, exitCode);
        Assert.Contains("Model:Remote:BaseUrl", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Chat_ThroughTheSamePipeline_StreamsTheAnswerAndHidesReasoning()
    {
        using var data = new TempDirectory();
        await using var model = await FakeOpenAiServer.StartAsync();
        model.Script = messages => ["<think>\n秘密的", "思考\n</think>\n\n", "终端", "回答：", ScriptedChatClient.UserText(messages[^1].Content)];

        var (exitCode, output, error) = await WeseekProcess.RunAsync(
            ["chat", $"--Storage:DataDirectory={data.Path}", "--Model:Provider=remote", $"--Model:Remote:BaseUrl={model.BaseUrl}"],
            input: "你好\n/help\n");

        Assert.True(exitCode == 0, error);
        Assert.Contains("终端回答：你好", output, StringComparison.Ordinal);
        Assert.DoesNotContain("秘密的思考", output, StringComparison.Ordinal);
        Assert.Contains("/reset", output, StringComparison.Ordinal);
        Assert.Single(model.Requests);
    }

    [Fact]
    public async Task Chat_LogLines_GoToStandardErrorNotIntoTheConversation()
    {
        using var data = new TempDirectory();
        await using var model = await FakeOpenAiServer.StartAsync();
        model.Script = _ => ["<think>\n想\n</think>\n\n", "答案"];

        // A fresh data directory: the first start creates the encryption key and logs a warning about it.
        var (exitCode, output, error) = await WeseekProcess.RunAsync(
            ["chat", $"--Storage:DataDirectory={data.Path}", "--Model:Provider=remote", $"--Model:Remote:BaseUrl={model.BaseUrl}"],
            input: "问\n");

        Assert.True(exitCode == 0, error);
        Assert.Contains("答案", output, StringComparison.Ordinal);
        Assert.Contains("weseek.key", error, StringComparison.Ordinal);
        Assert.DoesNotContain("weseek.key", output, StringComparison.Ordinal);
        Assert.DoesNotContain("warn:", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Chat_ShowThinking_PrintsTheReasoning()
    {
        using var data = new TempDirectory();
        await using var model = await FakeOpenAiServer.StartAsync();
        model.Script = _ => ["<think>\n可见的", "思考\n</think>\n\n", "答案"];

        var (exitCode, output, error) = await WeseekProcess.RunAsync(
            ["chat", "--show-thinking", $"--Storage:DataDirectory={data.Path}", "--Model:Provider=remote", $"--Model:Remote:BaseUrl={model.BaseUrl}"],
            input: "问\n");

        Assert.True(exitCode == 0, error);
        Assert.Contains("可见的思考", output, StringComparison.Ordinal);
        Assert.Contains("答案", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Chat_WithEmbeddedModelFile_AnswersThroughLlamaCpp()
    {
        using var data = new TempDirectory();
        var model = Path.Combine(data.Path, "tiny.gguf");
        WeSeek.Inference.Llama.Models.ModelSynthesizer.Write(model, WeSeek.Inference.Llama.Models.ModelShape.Tiny);

        var (exitCode, output, error) = await WeseekProcess.RunAsync(
            ["chat", "--model", model, "--show-thinking", $"--Storage:DataDirectory={data.Path}", "--Model:MaxOutputTokens=24", "--Model:Seed=3"],
            input: "你好\n");

        Assert.True(exitCode == 0, error);
        // Random weights: the tokens are noise, and with 24 of them the model is cut off inside its
        // reasoning, which the user gets as the fallback answer, never as reasoning passed off as an answer.
        Assert.Contains("抱歉", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ModelSynth_Quantised_IsQuietUnlessVerbose()
    {
        using var data = new TempDirectory();

        var quiet = await WeseekProcess.RunAsync(["model", "synth", "--shape", "tiny", "--dtype", "q4_k_m", "--out", Path.Combine(data.Path, "q.gguf"), "--data", data.Path]);
        var verbose = await WeseekProcess.RunAsync(["model", "synth", "--shape", "tiny", "--dtype", "q4_k_m", "--out", Path.Combine(data.Path, "v.gguf"), "--data", data.Path, "--verbose"]);

        Assert.True(quiet.ExitCode == 0, quiet.Error);
        Assert.Contains("Wrote", quiet.Output, StringComparison.Ordinal);
        // llama.cpp's quantiser writes a line per tensor; without --verbose none of it reaches the terminal.
        Assert.DoesNotContain("llama.cpp", quiet.Output + quiet.Error, StringComparison.Ordinal);
        Assert.True((quiet.Output + quiet.Error).Split('\n').Length < 10, quiet.Output + quiet.Error);
        Assert.True(verbose.ExitCode == 0, verbose.Error);
        Assert.True(verbose.Error.Split('\n').Count(l => l.Contains("llama.cpp", StringComparison.Ordinal)) > 10);
    }

    [Fact]
    public async Task ModelVerbs_SynthInspectListRm_WorkOnTheRealExecutable()
    {
        using var data = new TempDirectory();
        var models = Path.Combine(data.Path, "models");
        var file = Path.Combine(models, "demo-tiny.gguf");
        string[] storage = [$"--Storage:DataDirectory={data.Path}"];

        var synth = await WeseekProcess.RunAsync(["model", "synth", "--shape", "tiny", "--out", file, .. storage]);
        var inspect = await WeseekProcess.RunAsync(["model", "inspect", "demo-tiny", .. storage]);
        var list = await WeseekProcess.RunAsync(["model", "list", .. storage]);
        var rm = await WeseekProcess.RunAsync(["model", "rm", "demo-tiny", .. storage]);
        var missing = await WeseekProcess.RunAsync(["model", "inspect", "demo-tiny", .. storage]);

        Assert.True(synth.ExitCode == 0, synth.Output + synth.Error);
        Assert.Contains("qwen2", inspect.Output, StringComparison.Ordinal);
        Assert.Contains("F32", inspect.Output, StringComparison.Ordinal);
        Assert.Contains("demo-tiny", list.Output, StringComparison.Ordinal);
        Assert.Equal(0, rm.ExitCode);
        Assert.False(File.Exists(file));
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("No model 'demo-tiny'", missing.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ModelList_InvalidModelsOption_RefusedNamingTheKeyAsServeWould()
    {
        using var data = new TempDirectory();

        var (exitCode, output, error) = await WeseekProcess.RunAsync(["model", "list", "--data", data.Path, "--Models:Source=nowhere"]);

        Assert.Equal(2, exitCode);
        Assert.Equal("WeSeek cannot start: Models:Source (environment variable WESEEK__Models__Source): must be huggingface or modelscope", error.Trim());
        Assert.Empty(output);
    }

    [Fact]
    public async Task ModelPull_Offline_ExplainsWhatToDo()
    {
        using var data = new TempDirectory();
        var (exitCode, output, _) = await WeseekProcess.RunAsync(
            ["model", "pull", "deepseek-r1:1.5b", $"--Storage:DataDirectory={data.Path}", $"--Models:Endpoint=http://127.0.0.1:{TestHttp.FreePort()}/"]);

        Assert.Equal(1, exitCode);
        Assert.Contains("Models:Endpoint", output, StringComparison.Ordinal);
    }
}
