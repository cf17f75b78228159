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
            Assert.True(await page.EvaluateAsync<bool>("(() => { const i = document.getElementById('input'); return i.scrollWidth <= i.clientWidth + 1; })()"),
                $"The message box's placeholder is clipped at {width}px.");
            await SendAndWaitForAnswerAsync(page, "你好 hello from " + name);
            await BrowserHost.ScreenshotAsync(page, $"webchat-{name}");
            await BrowserHost.AssertAccessibleAsync(page, $"web chat, answered ({name})");
            Assert.True(await page.EvaluateAsync<bool>("document.documentElement.scrollWidth <= window.innerWidth + 1"), $"The web chat scrolls sideways at {width}px.");
            await page.Context.CloseAsync();
        }
    }

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
