using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace WeSeek.Browser.Tests;

/// <summary>The web chat page in Chromium, against the whole product (real llama.cpp on the tiny model).</summary>
[Collection(BrowserCollection.Name)]
public sealed class WebChatTests(BrowserHost host)
{
    [Fact]
    public async Task TwoBrowsers_EachSeeOnlyTheirOwnChats()
    {
        var alice = await host.NewPageAsync(1280, 800);
        var bob = await host.NewPageAsync(390, 844);

        await SendAndWaitForAnswerAsync(alice, "爱丽丝的秘密 alice secret");
        await SendAndWaitForAnswerAsync(bob, "鲍勃的问题 bob question");
        await alice.ReloadAsync();
        await bob.ReloadAsync();

        await Assertions.Expect(alice.Locator("#chats")).ToContainTextAsync("爱丽丝的秘密");
        await Assertions.Expect(bob.Locator("#chats")).ToContainTextAsync("鲍勃的问题");
        Assert.DoesNotContain("爱丽丝", await bob.ContentAsync(), StringComparison.Ordinal);
        Assert.DoesNotContain("鲍勃", await alice.ContentAsync(), StringComparison.Ordinal);
        await alice.Context.CloseAsync();
        await bob.Context.CloseAsync();
    }

    [Fact]
    public async Task WebChat_AtDesktopAndPhoneWidths_AnswersAndHasNoSeriousAccessibilityViolation()
    {
        foreach (var (name, width, height) in BrowserHost.Viewports)
        {
            var page = await host.NewPageAsync(width, height);
            await page.GotoAsync("/");
            await BrowserHost.AssertAccessibleAsync(page, $"web chat, empty ({name})");
            // The placeholder fits the box: not clipped on a phone.
            Assert.True(await page.EvaluateAsync<bool>(PlaceholderFits), $"The message box's placeholder is clipped at {width}px.");
            await SendAndWaitForAnswerAsync(page, "你好 hello from " + name);
            await BrowserHost.ScreenshotAsync(page, $"webchat-{name}");
            await BrowserHost.AssertAccessibleAsync(page, $"web chat, answered ({name})");
            Assert.True(await page.EvaluateAsync<bool>("document.documentElement.scrollWidth <= window.innerWidth + 1"), $"The web chat scrolls sideways at {width}px.");
            await page.Context.CloseAsync();
        }
    }

    [Fact]
    public async Task Chats_AreTitledByTheFirstRealQuestionNotACommand_AndCanBeRenamedAndDeleted()
    {
        var page = await host.NewPageAsync(1280, 800);
        page.Dialog += async (_, dialog) => await dialog.AcceptAsync(dialog.Type == "prompt" ? "退货问题" : null);
        await SendAndWaitForAnswerAsync(page, "/help");
        await SendAndWaitForAnswerAsync(page, "怎么申请退货？");
        var item = page.Locator("#chats li", new() { Has = page.Locator("[aria-current='page']") });
        await Assertions.Expect(item.Locator(".c-title")).ToHaveTextAsync("怎么申请退货？");
        await Assertions.Expect(page.Locator("#title")).ToHaveTextAsync("怎么申请退货？");

        await item.GetByRole(AriaRole.Button, new() { Name = "重命名 Rename: 怎么申请退货？" }).ClickAsync();
        await Assertions.Expect(item.Locator(".c-title")).ToHaveTextAsync("退货问题");
        await page.ReloadAsync();
        await Assertions.Expect(page.Locator("#chats")).ToContainTextAsync("退货问题");
        await BrowserHost.ScreenshotAsync(page, "webchat-renamed");

        var chatId = await WaitForDeliveredAsync(page);
        await page.GetByRole(AriaRole.Button, new() { Name = "删除 Delete: 退货问题" }).ClickAsync();
        await Assertions.Expect(page.Locator("#chats")).Not.ToContainTextAsync("退货问题");
        await page.ReloadAsync();
        await Assertions.Expect(page.Locator("#chats")).Not.ToContainTextAsync("退货问题");
        // Gone on the server too, not only from this browser's list.
        Assert.Equal(0, await page.EvaluateAsync<int>("async id => (await (await fetch('/api/webchat/chats/' + id + '/messages')).json()).length", chatId));
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task DeleteChat_AnotherVisitorNamingTheChatIsRefused_ThenItsOwnerDeletesIt_AndTheServerKeepsNoMessageOfIt()
    {
        var alice = await host.NewPageAsync(1280, 800);
        alice.Dialog += async (_, dialog) => await dialog.AcceptAsync();
        var bob = await host.NewPageAsync(390, 844);
        await SendAndWaitForAnswerAsync(alice, "爱丽丝要删除的会话 alice deletes this");
        var chatId = await WaitForDeliveredAsync(alice);
        await bob.GotoAsync("/");

        // The attack first: Bob's browser names Alice's chat id (copied from her screen, or guessed).
        var bobsTry = await bob.EvaluateAsync<int>("async id => (await fetch('/api/webchat/chats/' + id, { method: 'DELETE' })).status", chatId);
        Assert.Equal(404, bobsTry);
        await alice.ReloadAsync();
        await Assertions.Expect(alice.Locator("#chats")).ToContainTextAsync("爱丽丝要删除的会话");
        await Assertions.Expect(alice.Locator(".row.user")).ToContainTextAsync("爱丽丝要删除的会话");

        await alice.GetByRole(AriaRole.Button, new() { Name = "删除 Delete: 爱丽丝要删除的会话 alice deletes this" }).ClickAsync();
        await Assertions.Expect(alice.Locator("#chats")).Not.ToContainTextAsync("爱丽丝要删除的会话");
        await Assertions.Expect(alice.Locator(".row.user")).ToHaveCountAsync(0);
        await BrowserHost.ScreenshotAsync(alice, "webchat-deleted");
        Assert.Equal(0, await alice.EvaluateAsync<int>("async id => (await (await fetch('/api/webchat/chats/' + id + '/messages')).json()).length", chatId));
        var transcripts = host.App.Services.GetRequiredService<WeSeek.Conversations.ITranscriptReader>();
        var stored = await transcripts.ListChatsAsync(WeSeek.Messaging.ChannelId.From("webchat"), 1000, TestContext.Current.CancellationToken);
        Assert.DoesNotContain(stored, c => c.ChatId.EndsWith("." + chatId, StringComparison.Ordinal));
        var audited = await host.App.Services.GetRequiredService<WeSeek.Security.AuditLog>().LastDataAsync("chat.erased", TestContext.Current.CancellationToken);
        Assert.EndsWith("." + chatId, (string?)audited?["chat"], StringComparison.Ordinal);
        await alice.Context.CloseAsync();
        await bob.Context.CloseAsync();
    }

    [Fact]
    public async Task WebChat_InTheDarkColorScheme_AtDesktopAndPhoneWidths_HasNoSeriousAccessibilityViolation()
    {
        foreach (var (name, width, height) in BrowserHost.Viewports)
        {
            var page = await host.NewPageAsync(width, height, colorScheme: ColorScheme.Dark);
            await SendAndWaitForAnswerAsync(page, "深色模式 dark mode " + name);
            Assert.Equal("rgb(17, 19, 21)", await page.EvaluateAsync<string>("getComputedStyle(document.body).backgroundColor")); // The dark palette is in force.
            await BrowserHost.ScreenshotAsync(page, $"webchat-dark-{name}");
            await BrowserHost.AssertAccessibleAsync(page, $"web chat, dark ({name})");
            await page.Context.CloseAsync();
        }
    }

    /// <summary>Waits until the server has marked every reply of the page's current chat sent (the page shows an
    /// answer as it streams, a moment before); returns the chat id.</summary>
    internal static async Task<string> WaitForDeliveredAsync(IPage page)
    {
        await page.WaitForFunctionAsync(
            "async () => { const id = localStorage.getItem('weseek.current'); const h = await (await fetch('/api/webchat/chats/' + id + '/messages')).json(); return h.length > 1 && h.every(m => m.delivered); }",
            null, new() { PollingInterval = 200 });
        return await page.EvaluateAsync<string>("localStorage.getItem('weseek.current')");
    }

    [Fact]
    public async Task Answer_CopyButton_PutsTheAnswerOnTheClipboard()
    {
        var page = await host.NewPageAsync(390, 844, ["clipboard-read", "clipboard-write"]);
        await SendAndWaitForAnswerAsync(page, "复制测试 copy me");

        await page.Locator(".row.bot").Last.GetByRole(AriaRole.Button, new() { Name = "复制 Copy" }).ClickAsync();

        await Assertions.Expect(page.Locator(".row.bot").Last.GetByRole(AriaRole.Button, new() { Name = "已复制 Copied" })).ToBeVisibleAsync();
        var copied = await page.EvaluateAsync<string>("navigator.clipboard.readText()");
        var stored = await page.EvaluateAsync<string>(
            "fetch('/api/webchat/chats/' + localStorage.getItem('weseek.current') + '/messages').then(r => r.json()).then(h => h.filter(m => !m.fromUser).map(m => m.text).join('\\n\\n'))");
        Assert.False(string.IsNullOrEmpty(copied));
        Assert.Equal(stored, copied);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Markdown_InAnswers_RendersCodeListsAndTablesAsElements_AndNeverRunsMarkup()
    {
        var page = await host.NewPageAsync(1280, 800);
        await page.GotoAsync("/");

        var html = await page.EvaluateAsync<string>("""
            (() => {
              const d = document.createElement('div');
              renderMarkdown(d, "## 步骤\n1. 打开**设置**\n2. 点 `退货`\n\n| 商品 | 天数 |\n|---|---|\n| 衣服 | 7 |\n\n```\nconst a = 1;\n```\n<img src=x onerror=\"window.pwned=1\">");
              document.body.append(d);
              return d.innerHTML;
            })()
            """);

        Assert.Contains("<ol><li>打开<strong>设置</strong></li><li>点 <code>退货</code></li></ol>", html, StringComparison.Ordinal);
        Assert.Contains("<th>商品</th><th>天数</th>", html, StringComparison.Ordinal);
        Assert.Contains("<td>衣服</td><td>7</td>", html, StringComparison.Ordinal);
        Assert.Contains("<pre><code>const a = 1;</code></pre>", html, StringComparison.Ordinal);
        Assert.Contains("&lt;img src=x", html, StringComparison.Ordinal);
        Assert.Null(await page.EvaluateAsync<int?>("window.pwned"));
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task EngineNotRunning_ThePageSaysWhatToDo_AndRetrySendsTheMessageOnceItIsBack()
    {
        var page = await host.NewPageAsync(390, 844);
        await page.GotoAsync("/");
        // The product answers 503 when the web chat is not running; here that answer is made by the browser, so the
        // shared host keeps running for the other tests.
        await page.RouteAsync("**/api/webchat/messages", route => route.FulfillAsync(new()
        {
            Status = 503, ContentType = "application/problem+json",
            Body = """{"title":"Not running","status":503,"detail":"The web chat is not running"}""",
        }));

        await page.GetByLabel("消息 Message", new() { Exact = true }).FillAsync("还在吗？");
        await page.GetByLabel("消息 Message", new() { Exact = true }).PressAsync("Enter");

        await Assertions.Expect(page.Locator("#banner")).ToContainTextAsync("服务暂时不可用", new() { Timeout = 30_000 });
        await Assertions.Expect(page.Locator("#banner")).ToContainTextAsync("tap retry under your message later");
        var retry = page.GetByRole(AriaRole.Button, new() { Name = "点此重试" });
        await Assertions.Expect(retry).ToBeVisibleAsync(new() { Timeout = 30_000 });
        await BrowserHost.ScreenshotAsync(page, "webchat-engine-down-phone");

        await page.UnrouteAsync("**/api/webchat/messages");
        await retry.ClickAsync();
        await Assertions.Expect(page.Locator("#banner")).ToBeHiddenAsync();
        await Assertions.Expect(page.Locator(".row.bot[aria-busy='false']")).ToHaveCountAsync(1, new() { Timeout = 60_000 });
        await page.Context.CloseAsync();
    }

    // The placeholder's text, in the box's font, fits inside the box's padding.
    private const string PlaceholderFits = """
        (() => {
          const i = document.getElementById('input'), cs = getComputedStyle(i);
          const ctx = document.createElement('canvas').getContext('2d');
          ctx.font = cs.font;
          return ctx.measureText(i.placeholder).width <= i.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
        })()
        """;

    /// <summary>Opens the web chat (if not open), sends <paramref name="text"/> and waits until its answer is complete.</summary>
    internal static async Task SendAndWaitForAnswerAsync(IPage page, string text)
    {
        if (!page.Url.EndsWith('/'))
        {
            await page.GotoAsync("/");
        }

        var answered = await page.Locator(".row.bot[aria-busy='false']").CountAsync();
        await page.GetByLabel("消息 Message", new() { Exact = true }).FillAsync(text);
        await page.GetByLabel("消息 Message", new() { Exact = true }).PressAsync("Enter");
        await Assertions.Expect(page.Locator(".row.user").Last).ToContainTextAsync(text);
        await Assertions.Expect(page.Locator(".row.bot[aria-busy='false']")).ToHaveCountAsync(answered + 1, new() { Timeout = 60_000 });
    }
}
