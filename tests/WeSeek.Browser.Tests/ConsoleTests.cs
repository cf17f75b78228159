using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using WeSeek.Plugins;
using WeSeek.Storage.Sql;

namespace WeSeek.Browser.Tests;

/// <summary>The operator console at <c>/admin</c> in Chromium, against the whole product on a loopback port.</summary>
[Collection(BrowserCollection.Name)]
public sealed partial class ConsoleTests(BrowserHost host)
{
    private static readonly string[] Pages = ["overview", "channels", "conversations", "knowledge", "model", "moderation", "keys", "settings"];

    [Fact]
    public async Task Login_WithAWrongKey_SaysTheKeyIsNotValidAndShowsNoConsole()
    {
        var page = await host.NewPageAsync(1280, 800);
        await page.GotoAsync("/admin");

        await page.GetByLabel("管理密钥 Admin key", new() { Exact = true }).FillAsync("wsk_not-a-real-key-at-all");
        await page.GetByRole(AriaRole.Button, new() { Name = "登录 Log in" }).ClickAsync();

        await Assertions.Expect(page.Locator("#login-error")).ToContainTextAsync("not valid or was revoked");
        await Assertions.Expect(page.Locator("#shell")).ToBeHiddenAsync();
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task EveryPage_AtDesktopAndPhoneWidths_RendersItsContentWithNoSeriousAccessibilityViolation()
    {
        foreach (var (name, width, height) in BrowserHost.Viewports)
        {
            var page = await LogInAsync(host.AdminKey, width, height);
            await BrowserHost.AssertAccessibleAsync(page, $"log-in page ({name})");
            foreach (var id in Pages)
            {
                await page.GotoAsync("/admin#" + id);
                await Assertions.Expect(page.Locator("#page-" + id)).ToBeVisibleAsync();
                await Assertions.Expect(page.Locator($"#nav a[data-page='{id}']")).ToHaveAttributeAsync("aria-current", "page");
                await WaitForPageAsync(page, id);
                await BrowserHost.ScreenshotAsync(page, $"console-{id}-{name}");
                await BrowserHost.AssertAccessibleAsync(page, $"console {id} ({name})");
                Assert.Equal("", await page.Locator("#alert").TextContentAsync());
            }

            // Nothing on the phone is wider than the screen (no sideways scrolling of the whole page).
            Assert.True(await page.EvaluateAsync<bool>("document.documentElement.scrollWidth <= window.innerWidth + 1"), $"The console scrolls sideways at {width}px.");
            await page.Context.CloseAsync();
        }
    }

    [Fact]
    public async Task Overview_AfterAWebChatMessage_TheMessagesChartAndTotalsCountIt()
    {
        var console = await LogInAsync(host.AdminKey, 1280, 800);
        await Assertions.Expect(console.Locator("#fig-messages canvas").First).ToBeVisibleAsync();
        var before = int.Parse(await console.Locator("#stat-received").InnerTextAsync(), System.Globalization.CultureInfo.InvariantCulture);

        var chat = await host.NewPageAsync(1280, 800);
        await WebChatTests.SendAndWaitForAnswerAsync(chat, "图表测试 chart check");

        // The page refreshes every 5 s; the point still filling carries the message at once.
        await Assertions.Expect(console.Locator("#stat-received")).Not.ToHaveTextAsync(before.ToString(System.Globalization.CultureInfo.InvariantCulture), new() { Timeout = 20_000 });
        await Assertions.Expect(console.Locator("#fig-messages")).Not.ToHaveAttributeAsync("data-total", "0", new() { Timeout = 20_000 });
        await Assertions.Expect(console.Locator("#stat-sent")).Not.ToHaveTextAsync("0", new() { Timeout = 20_000 });
        await BrowserHost.ScreenshotAsync(console, "overview-after-message");
        await chat.Context.CloseAsync();
        await console.Context.CloseAsync();
    }

    [Fact]
    public async Task Transcript_OpenedByAnOperator_ShowsTheMessagesAndTheReadIsInTheAuditLogUnderTheKeysName()
    {
        var chat = await host.NewPageAsync(390, 844);
        await WebChatTests.SendAndWaitForAnswerAsync(chat, "审计测试 audit me");
        await chat.Context.CloseAsync();

        var page = await LogInAsync(host.OperatorKey, 1280, 800);
        await page.GotoAsync("/admin#conversations");
        await page.GetByRole(AriaRole.Searchbox, new() { Name = "搜索 Search" }).FillAsync("webchat");
        await page.GetByRole(AriaRole.Button, new() { Name = "搜索 Search" }).ClickAsync();
        // The newest chat is first.
        await page.Locator("#conv-rows button").First.ClickAsync();
        await Assertions.Expect(page.Locator("#tr-log")).ToContainTextAsync("审计测试 audit me");
        await Assertions.Expect(page.Locator("#tr-audit")).ToContainTextAsync("audit log as #");
        var auditId = AuditNumber().Match(await page.Locator("#tr-audit").InnerTextAsync()).Groups[1].Value;
        await BrowserHost.ScreenshotAsync(page, "conversations-transcript");

        var download = await page.RunAndWaitForDownloadAsync(() => page.GetByRole(AriaRole.Button, new() { Name = "导出 Export" }).ClickAsync());
        var exported = await File.ReadAllTextAsync(await download.PathAsync());
        Assert.EndsWith(".jsonl", download.SuggestedFilename, StringComparison.Ordinal);
        Assert.Contains("审计测试 audit me", exported, StringComparison.Ordinal);
        page.Dialog += (_, dialog) => dialog.AcceptAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "重置上下文 Reset context" }).ClickAsync();
        await Assertions.Expect(page.Locator("#tr-status")).ToContainTextAsync("Context reset");

        await page.GotoAsync("/admin#keys");
        await page.GetByLabel("类型 Kind starts with").FillAsync("admin.transcript");
        await page.GetByRole(AriaRole.Button, new() { Name = "筛选 Filter" }).ClickAsync();
        var entry = page.Locator("#audit-rows tr", new() { HasText = "admin.transcript.read" }).Filter(new() { Has = page.Locator($"td:text-is('{auditId}')") });
        await Assertions.Expect(entry).ToContainTextAsync("\"key\":\"ops\"");
        await Assertions.Expect(page.Locator("#audit-rows tr", new() { HasText = "admin.transcript.export" }).First).ToContainTextAsync("\"key\":\"ops\"");
        await page.GetByLabel("类型 Kind starts with").FillAsync("admin.action");
        await page.GetByRole(AriaRole.Button, new() { Name = "筛选 Filter" }).ClickAsync();
        await Assertions.Expect(page.Locator("#audit-rows tr").First).ToContainTextAsync("/admin/api/conversations/reset");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task TextSearch_AnOperatorFindsAChatByWordsInItsMessages_OpensIt_AndTheSearchIsInTheAuditLog_AndAViewerIsRefused()
    {
        var chat = await host.NewPageAsync(1280, 800);
        await WebChatTests.SendAndWaitForAnswerAsync(chat, "我的订单号是 ZX-4711 请查一下");
        await chat.Context.CloseAsync();

        foreach (var (name, width, height) in BrowserHost.Viewports)
        {
            var page = await LogInAsync(host.OperatorKey, width, height);
            await page.GotoAsync("/admin#conversations");
            await page.GetByLabel("要找的文字 Text to find").FillAsync("zx-4711");
            await page.GetByRole(AriaRole.Button, new() { Name = "搜索内容 Search text" }).ClickAsync();
            await Assertions.Expect(page.Locator("#text-status")).ToContainTextAsync("1 个会话 chats");
            await Assertions.Expect(page.Locator("#text-hits")).ToContainTextAsync("订单号是 ZX-4711");
            await Assertions.Expect(page.Locator("#text-status")).ToContainTextAsync("audit #");
            var auditId = AuditNumber().Match(await page.Locator("#text-status").InnerTextAsync()).Groups[1].Value;
            await BrowserHost.ScreenshotAsync(page, $"conversations-text-search-{name}");
            await BrowserHost.AssertAccessibleAsync(page, $"conversations text search ({name})");

            await page.Locator("#text-hits button").First.ClickAsync();
            await Assertions.Expect(page.Locator("#tr-log")).ToContainTextAsync("我的订单号是 ZX-4711");
            var records = await host.App.Services.GetRequiredService<ConsoleQueries>().AuditAsync("admin.transcript.search", null, 50, TestContext.Current.CancellationToken);
            var record = Assert.Single(records, r => r.Id.ToString(System.Globalization.CultureInfo.InvariantCulture) == auditId);
            Assert.Equal("ops", (string?)record.Data?["key"]);
            Assert.Single(record.Data!["chats"]!.AsArray());
            await page.Context.CloseAsync();
        }

        var viewer = await LogInAsync(host.ViewerKey, 1280, 800);
        await viewer.GotoAsync("/admin#conversations");
        await viewer.GetByLabel("要找的文字 Text to find").FillAsync("zx-4711");
        await viewer.GetByRole(AriaRole.Button, new() { Name = "搜索内容 Search text" }).ClickAsync();
        await Assertions.Expect(viewer.Locator("#text-status")).ToContainTextAsync("needs an operator key");
        await Assertions.Expect(viewer.Locator("#text-hits")).Not.ToContainTextAsync("ZX-4711");
        await viewer.Context.CloseAsync();
    }

    [Fact]
    public async Task PluginSwitch_TurnedOffInTheConsole_IsOffForThatChatOnly()
    {
        var chat = await host.NewPageAsync(1280, 800);
        await WebChatTests.SendAndWaitForAnswerAsync(chat, "插件开关 plugin switch");
        await chat.Context.CloseAsync();
        var page = await LogInAsync(host.OperatorKey, 390, 844);
        await page.GotoAsync("/admin#conversations");
        await page.Locator("#conv-rows button").First.ClickAsync();
        var chatKey = await page.Locator("#tr-chat").InnerTextAsync();

        var kb = page.GetByRole(AriaRole.Switch, new() { Name = "kb" });
        await Assertions.Expect(kb).ToBeCheckedAsync();
        await kb.UncheckAsync();
        await Assertions.Expect(page.Locator("#tr-status")).ToContainTextAsync("kb: 已关闭 off");

        var settings = host.App.Services.GetRequiredService<IPluginSettingsStore>();
        var catalog = host.App.Services.GetRequiredService<PluginCatalog>();
        Assert.False((await settings.GetAsync(chatKey, catalog.Plugins, default))["kb"]);
        Assert.True((await settings.GetAsync("webchat/local/someone-else", catalog.Plugins, default))["kb"]);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Viewer_CannotReadATranscriptSwitchAPluginOrManageKeys_AndThePageSaysWhy()
    {
        var chat = await host.NewPageAsync(1280, 800);
        await WebChatTests.SendAndWaitForAnswerAsync(chat, "只读测试 viewer check");
        await chat.Context.CloseAsync();
        var page = await LogInAsync(host.ViewerKey, 1280, 800);
        await Assertions.Expect(page.Locator("#who")).ToContainTextAsync("watcher · 只读 viewer");

        await page.GotoAsync("/admin#conversations");
        await page.Locator("#conv-rows button").First.ClickAsync();
        await Assertions.Expect(page.Locator("#tr-log")).ToContainTextAsync("This key is a viewer key");
        await Assertions.Expect(page.Locator("#tr-log")).Not.ToContainTextAsync("只读测试");
        var kb = page.GetByRole(AriaRole.Switch, new() { Name = "kb" });
        await kb.ClickAsync();
        await Assertions.Expect(page.Locator("#alert")).ToContainTextAsync("needs an operator key");
        await Assertions.Expect(kb).ToBeCheckedAsync();
        await BrowserHost.ScreenshotAsync(page, "viewer-refused");

        await page.GotoAsync("/admin#keys");
        await Assertions.Expect(page.Locator("#key-rows")).ToContainTextAsync("Only an admin key can manage keys");
        await Assertions.Expect(page.Locator("#key-create")).ToBeHiddenAsync();
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Keys_AnAdminCreatesAViewerKey_ItIsShownOnceListedAndItsRevocationEndsItsSession()
    {
        var admin = await LogInAsync(host.AdminKey, 1280, 800);
        admin.Dialog += (_, dialog) => dialog.AcceptAsync();
        await admin.GotoAsync("/admin#keys");
        await admin.GetByLabel("名称 Name", new() { Exact = true }).FillAsync("temp-viewer");
        await admin.GetByLabel("角色 Role", new() { Exact = true }).SelectOptionAsync("viewer");
        await admin.GetByRole(AriaRole.Button, new() { Name = "创建 Create" }).ClickAsync();
        var key = await admin.Locator("#key-new code").InnerTextAsync();
        Assert.StartsWith("wsk_", key, StringComparison.Ordinal);
        await Assertions.Expect(admin.Locator("#key-rows tr", new() { HasText = "temp-viewer" })).ToContainTextAsync("viewer");

        var other = await LogInAsync(key, 390, 844);
        await admin.Locator("#key-rows tr", new() { HasText = "temp-viewer" }).GetByRole(AriaRole.Button).ClickAsync();
        await Assertions.Expect(admin.Locator("#key-rows tr", new() { HasText = "temp-viewer" })).ToContainTextAsync("已吊销 revoked");

        // The open console of the revoked key: its next call ends the session with the reason.
        await other.GotoAsync("/admin#settings");
        await Assertions.Expect(other.Locator("#login")).ToBeVisibleAsync();
        await Assertions.Expect(other.Locator("#login-error")).ToContainTextAsync("Your session ended");
        await BrowserHost.ScreenshotAsync(other, "session-ended");
        await other.Context.CloseAsync();
        await admin.Context.CloseAsync();
    }

    [Fact]
    public async Task Knowledge_UploadThenAsk_ShowsThePassageAndScore_AndAnOversizedOrUnreadableFileChangesNothing()
    {
        var page = await LogInAsync(host.OperatorKey, 1280, 800);
        page.Dialog += (_, dialog) => dialog.AcceptAsync();
        await page.GotoAsync("/admin#knowledge");
        await page.GetByLabel("选择文件 Choose a file").SetInputFilesAsync(new FilePayload
        {
            Name = "returns.md", MimeType = "text/markdown",
            Buffer = System.Text.Encoding.UTF8.GetBytes("# 退货政策\n\n收到商品七天内可以无理由退货，运费由买家承担。\n"),
        });
        await Assertions.Expect(page.Locator("#kb-status")).ToContainTextAsync("returns.md: added");
        await Assertions.Expect(page.Locator("#kb-rows")).ToContainTextAsync("returns.md");

        await page.GetByLabel("问题 Question").FillAsync("退货");
        await page.GetByRole(AriaRole.Button, new() { Name = "检索 Search" }).ClickAsync();
        await Assertions.Expect(page.Locator("#kb-hits li").First).ToContainTextAsync("七天内可以无理由退货");
        await Assertions.Expect(page.Locator("#kb-hits li").First).ToContainTextAsync(new Regex(@"\d+\.\d\d · returns\.md"));
        await BrowserHost.ScreenshotAsync(page, "knowledge-query");

        await page.GetByLabel("选择文件 Choose a file").SetInputFilesAsync(new FilePayload
        {
            Name = "huge.txt", MimeType = "text/plain", Buffer = new byte[BrowserHost.MaxUploadBytes + 1],
        });
        await Assertions.Expect(page.Locator("#kb-status")).ToContainTextAsync("larger than the");
        await page.GetByLabel("选择文件 Choose a file").SetInputFilesAsync(new FilePayload
        {
            Name = "broken.pdf", MimeType = "application/pdf", Buffer = System.Text.Encoding.ASCII.GetBytes("this is not a PDF"),
        });
        await Assertions.Expect(page.Locator("#kb-status")).ToContainTextAsync("broken.pdf could not be read");
        await Assertions.Expect(page.Locator("#kb-status")).ToContainTextAsync("The knowledge base is unchanged");
        await Assertions.Expect(page.Locator("#kb-rows")).Not.ToContainTextAsync("huge.txt");
        await Assertions.Expect(page.Locator("#kb-rows")).Not.ToContainTextAsync("broken.pdf");

        await page.Locator("#kb-rows tr", new() { HasText = "returns.md" }).GetByRole(AriaRole.Button).ClickAsync();
        await Assertions.Expect(page.Locator("#kb-rows")).Not.ToContainTextAsync("returns.md");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Channels_ShowTheCallbackToPaste_AndTheILinkQrLoginThroughItsStates()
    {
        var viewer = await LogInAsync(host.ViewerKey, 390, 844);
        await viewer.GotoAsync("/admin#channels");
        await Assertions.Expect(viewer.Locator("#callbacks")).ToContainTextAsync("/wechat/mp/shop");
        Assert.DoesNotContain(BrowserHost.OfficialAccountToken, await viewer.Locator("#callbacks").InnerTextAsync(), StringComparison.Ordinal);
        await viewer.Context.CloseAsync();

        var page = await LogInAsync(host.OperatorKey, 1280, 800);
        await page.GotoAsync("/admin#channels");
        await Assertions.Expect(page.Locator("#callbacks")).ToContainTextAsync(host.BaseAddress.ToString().TrimEnd('/') + "/wechat/mp/shop");
        await Assertions.Expect(page.Locator("#callbacks")).ToContainTextAsync(BrowserHost.OfficialAccountToken);
        await Assertions.Expect(page.Locator("#channel-rows")).ToContainTextAsync("ilink");

        // iLink answers "wait" until told otherwise: each state stays until the page has shown it.
        await page.GetByRole(AriaRole.Button, new() { Name = "扫码登录 Show QR code" }).ClickAsync();
        await Assertions.Expect(page.Locator("#loginStatus")).ToContainTextAsync("Waiting for a scan");
        await Assertions.Expect(page.GetByAltText("微信登录二维码 WeChat login QR code")).ToBeVisibleAsync();
        await BrowserHost.ScreenshotAsync(page, "channels-ilink-qr");
        host.ILink.ScriptQr("scaned");
        await Assertions.Expect(page.Locator("#loginStatus")).ToContainTextAsync("Scanned: confirm on the phone", new() { Timeout = 30_000 });
        host.ILink.ScriptQr("expired");
        await Assertions.Expect(page.Locator("#loginStatus")).ToContainTextAsync("scan again", new() { Timeout = 30_000 });
        await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = "重新扫码" })).ToBeVisibleAsync();
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Model_PullFromTheConsole_ShowsProgressThenTheModelInTheList_AndAnUnknownNameIsExplained()
    {
        var page = await LogInAsync(host.OperatorKey, 1280, 800);
        await page.GotoAsync("/admin#model");
        await Assertions.Expect(page.Locator("#model-loaded")).ToContainTextAsync("tiny.gguf");

        await page.GetByLabel("模型名称 Model name").FillAsync("gpt-5");
        await page.GetByRole(AriaRole.Button, new() { Name = "下载 Pull" }).ClickAsync();
        await Assertions.Expect(page.Locator("#alert")).ToContainTextAsync("Unknown model 'gpt-5'");

        await page.GetByLabel("模型名称 Model name").FillAsync("deepseek-r1:1.5b");
        await page.GetByRole(AriaRole.Button, new() { Name = "下载 Pull" }).ClickAsync();
        await Assertions.Expect(page.Locator("#pull-status")).ToContainTextAsync("Pulled deepseek-r1:1.5b", new() { Timeout = 30_000 });
        await Assertions.Expect(page.Locator("#model-rows")).ToContainTextAsync("1.5B", new() { Timeout = 10_000 });
        await BrowserHost.ScreenshotAsync(page, "model-pulled");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Model_SwitchedByAnAdminWithoutARestart_AnswersOnTheNewModel_ABadFileIsRefusedWithTheReason_AndAnOperatorCannot()
    {
        var models = Path.Combine(host.DataPath, "models");
        Directory.CreateDirectory(models);
        // The host's own model under another name: the same weights answer as briefly as every other test's answers
        // (other random weights may write to the output limit before they stop, which takes minutes on a busy machine).
        File.Copy(Path.Combine(host.DataPath, "tiny.gguf"), Path.Combine(models, "switch-target.gguf"), overwrite: true);
        var broken = Path.Combine(models, "broken-model.gguf");
        await File.WriteAllTextAsync(broken, "this is not a model", TestContext.Current.CancellationToken);
        try
        {
            var page = await LogInAsync(host.AdminKey, 1280, 800);
            await page.GotoAsync("/admin#model");
            await Assertions.Expect(page.Locator("#model-loaded")).ToContainTextAsync("tiny.gguf");

            await page.GetByRole(AriaRole.Button, new() { Name = "切换 Switch broken-model", Exact = true }).ClickAsync();
            await Assertions.Expect(page.Locator("#switch-status")).ToContainTextAsync("Not switched, the loaded model is unchanged");
            await Assertions.Expect(page.Locator("#switch-status")).ToContainTextAsync("The model tiny still serves.");
            await Assertions.Expect(page.Locator("#model-loaded")).ToContainTextAsync("tiny.gguf");
            await BrowserHost.ScreenshotAsync(page, "model-switch-refused");

            await page.GetByRole(AriaRole.Button, new() { Name = "切换 Switch switch-target", Exact = true }).ClickAsync();
            await Assertions.Expect(page.Locator("#switch-status")).ToContainTextAsync("Switched to switch-target", new() { Timeout = 30_000 });
            await Assertions.Expect(page.Locator("#model-loaded")).ToContainTextAsync("switch-target.gguf");
            await BrowserHost.ScreenshotAsync(page, "model-switched");
            var chat = await host.NewPageAsync(1280, 800);
            await WebChatTests.SendAndWaitForAnswerAsync(chat, "换了模型还能回答吗 after the switch");
            await chat.Context.CloseAsync();
            var audited = await host.App.Services.GetRequiredService<WeSeek.Security.AuditLog>().LastDataAsync("admin.model.switched", TestContext.Current.CancellationToken);
            Assert.Equal("root", (string?)audited?["key"]);
            Assert.EndsWith("switch-target.gguf", (string?)audited?["to"], StringComparison.Ordinal);
            await page.Context.CloseAsync();

            var phone = await LogInAsync(host.OperatorKey, 390, 844);
            await phone.GotoAsync("/admin#model");
            await phone.GetByRole(AriaRole.Button, new() { Name = "切换 Switch tiny", Exact = true }).ClickAsync();
            await Assertions.Expect(phone.Locator("#switch-status")).ToContainTextAsync("needs an admin key");
            await Assertions.Expect(phone.Locator("#model-loaded")).ToContainTextAsync("switch-target.gguf");
            await BrowserHost.ScreenshotAsync(phone, "model-switch-operator-refused-phone");
            await BrowserHost.AssertAccessibleAsync(phone, "model page after a refused switch (phone)");
            await phone.Context.CloseAsync();
        }
        finally
        {
            // The other tests expect the model the host started with.
            var engine = host.App.Services.GetRequiredService<WeSeek.Inference.Llama.Engine.LlamaEngineHost>();
            if (engine.StartedWith is { } started && engine.LoadedEngine?.ModelPath != started)
            {
                await engine.SwitchModelAsync(started, TestContext.Current.CancellationToken);
            }

            File.Delete(broken);
        }
    }

    [Fact]
    public async Task Moderation_TestingAText_ShowsTheListThatMatched()
    {
        var page = await LogInAsync(host.ViewerKey, 390, 844);
        await page.GotoAsync("/admin#moderation");
        await Assertions.Expect(page.Locator("#mod-rows")).ToContainTextAsync("test-list");

        await page.GetByLabel("文本 Text").FillAsync("这里有违禁词");
        await page.GetByRole(AriaRole.Button, new() { Name = "测试 Test" }).ClickAsync();

        await Assertions.Expect(page.Locator("#mod-result")).ToContainTextAsync("test-list「违禁词」");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Moderation_AnOperatorEditsAWordFile_TheNextTextIsCheckedAgainstIt_AndAViewerCannotSave()
    {
        var viewer = await LogInAsync(host.ViewerKey, 1280, 800);
        await viewer.GotoAsync("/admin#moderation");
        await Assertions.Expect(viewer.GetByLabel("每行一个词 One word per line")).ToHaveValueAsync("旧词");
        await viewer.GetByLabel("每行一个词 One word per line").FillAsync("旧词\n偷改");
        await viewer.GetByRole(AriaRole.Button, new() { Name = "保存 Save" }).ClickAsync();
        await Assertions.Expect(viewer.Locator("#alert")).ToContainTextAsync("needs an operator key");
        await viewer.Context.CloseAsync();

        var page = await LogInAsync(host.OperatorKey, 390, 844);
        await page.GotoAsync("/admin#moderation");
        await Assertions.Expect(page.GetByLabel("每行一个词 One word per line")).ToHaveValueAsync("旧词");
        await page.GetByLabel("每行一个词 One word per line").FillAsync("旧词\n新词");
        await page.GetByRole(AriaRole.Button, new() { Name = "保存 Save" }).ClickAsync();
        await Assertions.Expect(page.Locator("#mod-saved")).ToContainTextAsync("Saved: 2");

        await page.GetByLabel("文本 Text").FillAsync("这是新词吗");
        await page.GetByRole(AriaRole.Button, new() { Name = "测试 Test" }).ClickAsync();
        await Assertions.Expect(page.Locator("#mod-result")).ToContainTextAsync("file-list「新词」");
        Assert.DoesNotContain("偷改", await File.ReadAllTextAsync(Path.Combine(host.DataPath, "file-list.txt")), StringComparison.Ordinal);
        await BrowserHost.ScreenshotAsync(page, "moderation-edited");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Moderation_ABadEditIsRefusedWithTheReason_AndNothingIsSaved_AndAConfiguredListSaysWhyItIsReadOnly()
    {
        var file = Path.Combine(host.DataPath, "file-list.txt");
        var before = await File.ReadAllTextAsync(file, TestContext.Current.CancellationToken);
        var page = await LogInAsync(host.OperatorKey, 390, 844);
        await page.GotoAsync("/admin#moderation");
        var configured = page.Locator("#mod-rows tr", new() { HasText = "test-list" });
        await Assertions.Expect(configured).ToContainTextAsync("configured words are read-only here: change Moderation:Lists:test-list:Words, or give the list a File");
        await Assertions.Expect(page.Locator("#mod-rows tr", new() { HasText = "file-list" })).ToContainTextAsync("The file is editable below");

        await page.GetByLabel("每行一个词 One word per line").FillAsync("正常词\n" + new string('长', 120));
        await page.GetByRole(AriaRole.Button, new() { Name = "保存 Save" }).ClickAsync();

        await Assertions.Expect(page.Locator("#mod-saved")).ToContainTextAsync("Not saved, the list is unchanged");
        await Assertions.Expect(page.Locator("#mod-saved")).ToContainTextAsync("longer than");
        Assert.Equal(before, await File.ReadAllTextAsync(file, TestContext.Current.CancellationToken));
        await page.GetByLabel("文本 Text").FillAsync("这里有正常词");
        await page.GetByRole(AriaRole.Button, new() { Name = "测试 Test" }).ClickAsync();
        await Assertions.Expect(page.Locator("#mod-result")).ToContainTextAsync("通过 Passed"); // The refused word is in no list.
        await BrowserHost.ScreenshotAsync(page, "moderation-bad-edit-phone");
        await BrowserHost.AssertAccessibleAsync(page, "moderation after a refused edit (phone)");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Settings_ShowEachValueWithItsSource_AndMaskSecrets()
    {
        var page = await LogInAsync(host.ViewerKey, 1280, 800);
        await page.GotoAsync("/admin#settings");
        await page.GetByLabel("筛选 Filter").FillAsync("Outbox:PollInterval");
        await Assertions.Expect(page.Locator("#set-rows")).ToContainTextAsync("command line (--Outbox:PollInterval)");
        await page.GetByLabel("筛选 Filter").FillAsync("Moderation:External:ApiKey");
        await Assertions.Expect(page.Locator("#set-rows")).ToContainTextAsync("•••••• (set)");
        Assert.DoesNotContain(BrowserHost.Secret, await page.ContentAsync(), StringComparison.Ordinal);
        await page.Context.CloseAsync();
    }

    /// <summary>Opens the console in a fresh context and logs in with <paramref name="key"/>.</summary>
    internal async Task<IPage> LogInAsync(string key, int width, int height)
    {
        var page = await host.NewPageAsync(width, height);
        await page.GotoAsync("/admin");
        await page.GetByLabel("管理密钥 Admin key", new() { Exact = true }).FillAsync(key);
        await page.GetByRole(AriaRole.Button, new() { Name = "登录 Log in" }).ClickAsync();
        await Assertions.Expect(page.Locator("#shell")).ToBeVisibleAsync();
        return page;
    }

    // What each page shows once its data arrived, so screenshots and accessibility checks see the loaded page.
    private static Task WaitForPageAsync(IPage page, string id) => id switch
    {
        "overview" => Assertions.Expect(page.Locator("#overview-updated")).ToContainTextAsync("Updated"),
        "channels" => Assertions.Expect(page.Locator("#channel-rows")).ToContainTextAsync("webchat"),
        "conversations" => Assertions.Expect(page.Locator("#conv-rows tr").First).ToBeVisibleAsync(),
        "knowledge" => Assertions.Expect(page.Locator("#kb-rows tr").First).ToBeVisibleAsync(),
        "model" => Assertions.Expect(page.Locator("#model-loaded")).ToContainTextAsync("tiny.gguf"),
        "moderation" => Assertions.Expect(page.Locator("#mod-rows")).ToContainTextAsync("test-list"),
        "keys" => Assertions.Expect(page.Locator("#key-rows")).ToContainTextAsync("root"),
        _ => Assertions.Expect(page.Locator("#set-rows tr").First).ToBeVisibleAsync(),
    };

    [GeneratedRegex(@"#(\d+)")]
    private static partial Regex AuditNumber();
}
