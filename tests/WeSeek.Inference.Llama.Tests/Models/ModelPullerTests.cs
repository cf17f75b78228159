using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using WeSeek.Inference.Llama.Models;
using WeSeek.TestKit;

namespace WeSeek.Inference.Llama.Tests.Models;

/// <summary>Pulls against a local HTTP server on loopback that serves a file with Range support, as the
/// Hugging Face and ModelScope CDNs do; nothing goes to the internet.</summary>
public sealed class ModelPullerTests : IAsyncLifetime
{
    private static readonly byte[] Model = SynthesiseTiny();
    private byte[] _file = Model;
    private WebApplication _server = null!;
    private int _cutAfter;
    private int _requests;

    public async ValueTask InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        _server = builder.Build();
        _server.MapGet("/{**path}", async (HttpContext context) =>
        {
            Interlocked.Increment(ref _requests);
            var from = 0L;
            if (context.Request.Headers.Range.FirstOrDefault() is { } range && range.StartsWith("bytes=", StringComparison.Ordinal))
            {
                from = long.Parse(range[6..].TrimEnd('-'), System.Globalization.CultureInfo.InvariantCulture);
                context.Response.StatusCode = StatusCodes.Status206PartialContent;
                context.Response.Headers.ContentRange = $"bytes {from}-{_file.Length - 1}/{_file.Length}";
            }

            context.Response.ContentLength = _file.Length - from;
            var cut = Interlocked.Exchange(ref _cutAfter, 0);
            if (cut > 0)
            {
                // Send part of the body, then drop the connection mid-file.
                await context.Response.Body.WriteAsync(_file.AsMemory((int)from, cut));
                await context.Response.Body.FlushAsync();
                context.Abort();
                return;
            }

            await context.Response.Body.WriteAsync(_file.AsMemory((int)from));
        });
        await _server.StartAsync();
    }

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    private static byte[] SynthesiseTiny()
    {
        using var dir = new TempDirectory();
        var path = Path.Combine(dir.Path, "tiny.gguf");
        ModelSynthesizer.Write(path, ModelShape.Tiny);
        return File.ReadAllBytes(path);
    }

    private Uri Endpoint => new(_server.Urls.First() + "/");

    private string Sha => Convert.ToHexStringLower(SHA256.HashData(_file));

    [Fact]
    public async Task Pull_DownloadsVerifiesAndReportsProgress()
    {
        using var dir = new TempDirectory();
        using var http = TestHttp.CreateClient(Endpoint);
        var seen = new List<long>();

        await new ModelPuller(http, Endpoint, "huggingface").PullFileAsync(new Uri(Endpoint, "org/repo/resolve/main/m.gguf"), Path.Combine(dir.Path, "m.gguf"),
            _file.Length, Sha, new SynchronousProgress(p => seen.Add(p.Bytes)), TestContext.Current.CancellationToken);

        Assert.Equal(_file, await File.ReadAllBytesAsync(Path.Combine(dir.Path, "m.gguf"), TestContext.Current.CancellationToken));
        Assert.False(File.Exists(Path.Combine(dir.Path, "m.gguf.part")));
        Assert.Equal(_file.Length, seen[^1]);
    }

    [Fact]
    public async Task Pull_CutMidFile_ResumesWithARangeRequest()
    {
        using var dir = new TempDirectory();
        using var http = TestHttp.CreateClient(Endpoint);
        var puller = new ModelPuller(http, Endpoint, "huggingface");
        var target = Path.Combine(dir.Path, "m.gguf");
        _cutAfter = 1 << 20;

        await Assert.ThrowsAsync<ModelPullException>(() => puller.PullFileAsync(new Uri(Endpoint, "m.gguf"), target, _file.Length, Sha, null, TestContext.Current.CancellationToken));
        var partial = new FileInfo(target + ".part").Length;
        await puller.PullFileAsync(new Uri(Endpoint, "m.gguf"), target, _file.Length, Sha, null, TestContext.Current.CancellationToken);

        Assert.InRange(partial, 1, _file.Length - 1);
        Assert.Equal(_file, await File.ReadAllBytesAsync(target, TestContext.Current.CancellationToken));
        Assert.Equal(2, _requests);
    }

    [Fact]
    public async Task Pull_ChecksumMismatch_IsRejectedAndTheFileRemoved()
    {
        using var dir = new TempDirectory();
        using var http = TestHttp.CreateClient(Endpoint);
        var target = Path.Combine(dir.Path, "m.gguf");

        var error = await Assert.ThrowsAsync<ModelPullException>(() => new ModelPuller(http, Endpoint, "huggingface")
            .PullFileAsync(new Uri(Endpoint, "m.gguf"), target, null, new string('0', 64), null, TestContext.Current.CancellationToken));

        Assert.Contains("checksum", error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(target));
        Assert.False(File.Exists(target + ".part"));
    }

    [Fact]
    public async Task Pull_NotAGguf_IsRejectedAndRemoved()
    {
        _file = "<html>502 Bad Gateway</html>"u8.ToArray();
        using var dir = new TempDirectory();
        using var http = TestHttp.CreateClient(Endpoint);
        var target = Path.Combine(dir.Path, "m.gguf");

        var error = await Assert.ThrowsAsync<ModelPullException>(() => new ModelPuller(http, Endpoint, "huggingface")
            .PullFileAsync(new Uri(Endpoint, "m.gguf"), target, null, null, null, TestContext.Current.CancellationToken));

        Assert.Contains("not a valid GGUF", error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(target));
        Assert.False(File.Exists(target + ".part"));
    }

    [Fact]
    public async Task Pull_Unreachable_SaysWhatToDo()
    {
        using var dir = new TempDirectory();
        var closed = new Uri($"http://127.0.0.1:{TestHttp.FreePort()}/");
        using var http = TestHttp.CreateClient(closed);
        var entry = ModelCatalog.Load(null).Resolve("deepseek-r1:1.5b");

        var error = await Assert.ThrowsAsync<ModelPullException>(() => new ModelPuller(http, closed, "huggingface").PullAsync(entry, dir.Path, null, TestContext.Current.CancellationToken));

        Assert.Contains("Models:Endpoint", error.Message, StringComparison.Ordinal);
        Assert.Contains("weseek model synth", error.Message, StringComparison.Ordinal);
    }

    private sealed class SynchronousProgress(Action<PullProgress> report) : IProgress<PullProgress>
    {
        public void Report(PullProgress value) => report(value);
    }
}
