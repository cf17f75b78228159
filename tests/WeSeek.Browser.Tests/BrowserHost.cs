using Deque.AxeCore.Commons;
using Deque.AxeCore.Playwright;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using WeSeek.Host.Commands;
using WeSeek.Inference.Llama.Models;
using WeSeek.Security;
using WeSeek.TestKit;

namespace WeSeek.Browser.Tests;

/// <summary>
/// One product host and one browser for a collection of browser tests: <c>weseek serve</c> on a loopback port
/// with real SQLite and real llama.cpp on the tiny synthesised model, and Debian's chromium driven by Playwright.
/// Each test opens its own browser context (its own cookies and storage), which costs milliseconds; a browser or a
/// host per test would cost seconds each on a 2-core machine.
/// </summary>
public sealed class BrowserHost : IAsyncLifetime
{
    /// <summary>Where Debian's <c>chromium</c> package puts the browser; <c>WESEEK_CHROMIUM</c> names another.</summary>
    public static string ChromiumPath => Environment.GetEnvironmentVariable("WESEEK_CHROMIUM") is { Length: > 0 } path ? path : "/usr/bin/chromium";

    /// <summary>The two widths every page is checked at: a desktop and a phone (iPhone 12-15's CSS pixels).</summary>
    public static readonly (string Name, int Width, int Height)[] Viewports = [("desktop", 1280, 800), ("phone", 390, 844)];

    /// <summary>The largest knowledge-base upload the test host accepts (Admin:MaxUploadBytes), small so the
    /// oversized-upload test sends 1 MiB rather than the default's 20.</summary>
    public const long MaxUploadBytes = 1024 * 1024;

    /// <summary>A secret in the test host's configuration, which the settings page must never show.</summary>
    public const string Secret = "sk-browser-test-secret-0123456789";

    /// <summary>The Official Account the test host is configured with: its token is what the channels page shows
    /// operators to paste into WeChat's console.</summary>
    public const string OfficialAccountToken = "browser-oa-token-42";

    private readonly TempDirectory _data = new();
    private IPlaywright? _playwright;
    private IBrowser? _browser;
    private WebApplication? _app;
    private WebApplication? _mirror;

    public Uri BaseAddress { get; private set; } = null!;

    public WebApplication App => _app ?? throw new InvalidOperationException("The host has not started.");

    public string DataPath => _data.Path;

    /// <summary>iLink's servers, played by the fake written from the protocol (QR login states are scripted).</summary>
    public FakeILinkServer ILink { get; private set; } = null!;

    /// <summary>Keys of each role, created before the tests run.</summary>
    public string AdminKey { get; private set; } = "";

    public string OperatorKey { get; private set; } = "";

    public string ViewerKey { get; private set; } = "";

    public async ValueTask InitializeAsync()
    {
        if (!File.Exists(ChromiumPath))
        {
            throw new InvalidOperationException(
                $"The browser tests need Chromium at {ChromiumPath}, and it is not there. Install Debian's package: " +
                "`sudo apt-get install -y chromium` (.ci/run does this), or set WESEEK_CHROMIUM to a Chromium executable.");
        }

        ILink = await FakeILinkServer.StartAsync();
        var wordFile = Path.Combine(_data.Path, "file-list.txt");
        await File.WriteAllTextAsync(wordFile, "# words the console may edit\n旧词\n");
        var model = Path.Combine(_data.Path, "tiny.gguf");
        ModelSynthesizer.Write(model, ModelShape.Tiny);
        // A model mirror on loopback for pulls from the console: every file it is asked for is the tiny model.
        var mirrorBuilder = WebApplication.CreateSlimBuilder();
        mirrorBuilder.WebHost.UseUrls("http://127.0.0.1:0");
        _mirror = mirrorBuilder.Build();
        _mirror.MapGet("/{**path}", () => Results.File(model, "application/octet-stream", enableRangeProcessing: true));
        await _mirror.StartAsync();
        _app = ServeCommand.Build([
            "--urls=http://127.0.0.1:0", $"--Storage:DataDirectory={_data.Path}", "--Outbox:PollInterval=00:00:00.100",
            "--model", model, $"--Model:Llama:ModelPath={model}", "--Model:Provider=llama",
            $"--Admin:MaxUploadBytes={MaxUploadBytes}", $"--Moderation:External:ApiKey={Secret}",
            "--Moderation:Lists:test-list:Action=Block", "--Moderation:Lists:test-list:Words:0=违禁词",
            "--Moderation:Lists:file-list:Action=Mask", "--Moderation:Lists:file-list:File=" + wordFile,
            $"--Models:Endpoint={_mirror.Urls.First()}/",
            "--ILink:Enabled=true", "--ILink:BaseUrl=" + ILink.BaseUrl, "--ILink:QrPollInterval=00:00:00.200", "--ILink:QrRefreshes=0",
            // An Official Account whose API is a closed loopback port: nothing leaves the machine.
            "--OfficialAccount:Accounts:shop:Token=" + OfficialAccountToken, "--OfficialAccount:Accounts:shop:AppId=wx0123456789abcdef",
            "--OfficialAccount:Accounts:shop:AppSecret=" + Secret, $"--OfficialAccount:ApiBaseUrl=http://127.0.0.1:{TestHttp.FreePort()}/",
        ]);
        await _app.StartAsync();
        var address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        BaseAddress = new Uri(address);

        var keys = _app.Services.GetRequiredService<AdminKeys>();
        AdminKey = (await keys.CreateAsync("root", AdminRole.Admin, default)).Key;
        OperatorKey = (await keys.CreateAsync("ops", AdminRole.Operator, default)).Key;
        ViewerKey = (await keys.CreateAsync("watcher", AdminRole.Viewer, default)).Key;

        _playwright = await Playwright.CreateAsync();
        // --no-sandbox: CI runs as root, where Chromium refuses its sandbox.
        _browser = await _playwright.Chromium.LaunchAsync(new() { ExecutablePath = ChromiumPath, Headless = true, Args = ["--no-sandbox"] });
    }

    /// <summary>A fresh browser context (cookies, storage) at a viewport, with one page; light unless
    /// <paramref name="colorScheme"/> asks for the dark scheme (prefers-color-scheme).</summary>
    public async Task<IPage> NewPageAsync(int width, int height, string[]? permissions = null, ColorScheme colorScheme = ColorScheme.Light)
    {
        var context = await _browser!.NewContextAsync(new()
        {
            ViewportSize = new() { Width = width, Height = height }, BaseURL = BaseAddress.ToString(), Locale = "zh-CN", Permissions = permissions,
            ColorScheme = colorScheme,
        });
        context.SetDefaultTimeout(20_000);
        return await context.NewPageAsync();
    }

    /// <summary>Writes a full-page screenshot for review under the test project's <c>TestResults/screenshots</c>.</summary>
    public static async Task ScreenshotAsync(IPage page, string name)
    {
        var directory = Path.Combine(ProjectDirectory(), "TestResults", "screenshots");
        Directory.CreateDirectory(directory);
        await page.ScreenshotAsync(new() { Path = Path.Combine(directory, name + ".png"), FullPage = true });
    }

    /// <summary>Runs axe on the page and fails with the rule, the impact and the elements of every serious or
    /// critical violation.</summary>
    public static async Task AssertAccessibleAsync(IPage page, string what)
    {
        var result = await page.RunAxe();
        var serious = result.Violations.Where(v => v.Impact is "serious" or "critical").ToList();
        Assert.True(serious.Count == 0, $"{what}: accessibility violations:\n" + string.Join("\n", serious.Select(Describe)));
    }

    private static string Describe(AxeResultItem v) =>
        $"{v.Id} ({v.Impact}): {v.Help} at {string.Join(", ", v.Nodes.Take(5).Select(n => n.Target?.ToString()))}";

    private static string ProjectDirectory()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "WeSeek.Browser.Tests.csproj")))
            {
                return dir.FullName;
            }
        }

        return AppContext.BaseDirectory;
    }

    public async ValueTask DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.DisposeAsync();
        }

        _playwright?.Dispose();
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        if (_mirror is not null)
        {
            await _mirror.DisposeAsync();
        }

        if (ILink is not null)
        {
            await ILink.DisposeAsync();
        }

        _data.Dispose();
    }
}

/// <summary>The collection every browser test belongs to: one host and one browser for all of them.</summary>
[CollectionDefinition(Name)]
public sealed class BrowserCollection : ICollectionFixture<BrowserHost>
{
    public const string Name = "browser";
}
