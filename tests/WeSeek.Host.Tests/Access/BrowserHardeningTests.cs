using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using WeSeek.Host.Access;
using WeSeek.Host.Tests.WebChat;
using WeSeek.TestKit;

namespace WeSeek.Host.Tests.Access;

/// <summary>Headers for browsers and the Host check, over real HTTP on loopback.</summary>
public sealed partial class BrowserHardeningTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("/")]
    [InlineData("/admin")]
    [InlineData("/api/webchat/chats")]
    [InlineData("/health/live")]
    public async Task EveryResponse_CarriesCspFramingSniffingAndReferrerHeaders(string path)
    {
        using var data = new TempDirectory();
        await using var app = await WebChatEndToEndTests.StartAsync(data, null);
        using var http = TestHttp.CreateClient(WebChatEndToEndTests.BaseAddress(app));

        var response = await http.GetAsync(path, Ct);

        var csp = string.Join(";", response.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("frame-ancestors 'none'", csp, StringComparison.Ordinal);
        Assert.Contains("object-src 'none'", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("'unsafe-inline'", Regex.Match(csp, "script-src[^;]*").Value, StringComparison.Ordinal);
        Assert.Equal("DENY", response.Headers.GetValues("X-Frame-Options").Single());
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal("no-referrer", response.Headers.GetValues("Referrer-Policy").Single());
    }

    [Theory]
    [InlineData("/")]
    [InlineData("/admin")]
    public async Task PagesInlineScripts_AreAdmittedByTheirHash(string path)
    {
        using var data = new TempDirectory();
        await using var app = await WebChatEndToEndTests.StartAsync(data, null);
        using var http = TestHttp.CreateClient(WebChatEndToEndTests.BaseAddress(app));

        var response = await http.GetAsync(path, Ct);
        var html = await response.Content.ReadAsStringAsync(Ct);
        var csp = string.Join(";", response.Headers.GetValues("Content-Security-Policy"));

        var scripts = InlineScript().Matches(html);
        Assert.NotEmpty(scripts);
        Assert.All(scripts, s => Assert.Contains("'sha256-" + Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(s.Groups[1].Value))) + "'", csp, StringComparison.Ordinal));
    }

    [Fact]
    public async Task DnsRebinding_ForeignHostHeaderOnLoopback_Returns400()
    {
        // The attack: a page on evil.example whose name is rebound to 127.0.0.1 reads the loopback web chat and
        // admin console under its own origin; the Host header is the one thing that gives it away.
        using var data = new TempDirectory();
        await using var app = await WebChatEndToEndTests.StartAsync(data, null);
        using var http = TestHttp.CreateClient(WebChatEndToEndTests.BaseAddress(app));
        using var rebound = new HttpRequestMessage(HttpMethod.Get, "/api/webchat/chats");
        rebound.Headers.Host = "evil.example:" + WebChatEndToEndTests.BaseAddress(app).Port;
        using var local = new HttpRequestMessage(HttpMethod.Get, "/api/webchat/chats");
        local.Headers.Host = "localhost:" + WebChatEndToEndTests.BaseAddress(app).Port;

        var refused = await http.SendAsync(rebound, Ct);
        var allowed = await http.SendAsync(local, Ct);

        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
    }

    [Fact]
    public async Task AllowedHosts_Configured_AnswersThatNameAndAddressLiterals_AndRefusesOtherNames()
    {
        using var data = new TempDirectory();
        await using var app = await WebChatEndToEndTests.StartAsync(data, null, "--Access:AllowedHosts:0=chat.example.com");
        using var http = TestHttp.CreateClient(WebChatEndToEndTests.BaseAddress(app));
        using var named = new HttpRequestMessage(HttpMethod.Get, "/health/live");
        named.Headers.Host = "chat.example.com";
        using var other = new HttpRequestMessage(HttpMethod.Get, "/health/live");
        other.Headers.Host = "evil.example";
        // How a Kubernetes probe or a Prometheus scrape names a pod.
        using var address = new HttpRequestMessage(HttpMethod.Get, "/health/live");
        address.Headers.Host = "10.244.1.17:8080";

        Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(named, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await http.SendAsync(other, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(address, Ct)).StatusCode);
    }

    [Theory]
    [InlineData("localhost", true)]
    [InlineData("app.localhost", true)]
    [InlineData("127.0.0.1", true)]
    [InlineData("[::1]", true)]
    [InlineData("192.168.1.20", true)]
    [InlineData("evil.example", false)]
    [InlineData("localhost.evil.example", false)]
    public void DefaultAllowedHosts_LoopbackNamesAndAddressLiteralsOnly(string host, bool allowed) =>
        Assert.Equal(allowed, BrowserHardeningMiddleware.IsAllowedHost(host, []));

    [GeneratedRegex(@"<script>(.*?)</script>", RegexOptions.Singleline)]
    private static partial Regex InlineScript();
}
