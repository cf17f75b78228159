using System.Net;
using System.Net.Http.Json;
using WeSeek.Channels.WebChat;
using WeSeek.TestKit;

namespace WeSeek.Host.Tests.WebChat;

/// <summary>The web chat's password over real HTTP: the form, the session cookie, rate-limited attempts.</summary>
public sealed class WebChatPasswordTests
{
    private const string Password = "correct horse 电池";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task WithoutSession_PageIsTheFormAndTheApiRefuses()
    {
        using var data = new TempDirectory();
        await using var app = await WebChatEndToEndTests.StartAsync(data, null, $"--WebChat:Password={Password}");
        using var http = Client(app);

        var page = await http.GetAsync("/", Ct);
        var chats = await http.GetAsync("/api/webchat/chats", Ct);
        var post = await WebChatEndToEndTests.PostAsync(http, "c1", "m1", "你好");

        Assert.Equal(HttpStatusCode.Unauthorized, page.StatusCode);
        Assert.Contains("name=\"password\"", await page.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Unauthorized, chats.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, post.StatusCode);
    }

    [Fact]
    public async Task RightPassword_SetsASessionCookie_ThatOpensPageAndApi_WrongOneDoesNot()
    {
        using var data = new TempDirectory();
        await using var app = await WebChatEndToEndTests.StartAsync(data, null, $"--WebChat:Password={Password}");
        using var http = Client(app);

        var wrong = await LoginAsync(http, "guess");
        var right = await LoginAsync(http, Password);
        var cookie = SessionCookie(right);
        using var page = new HttpRequestMessage(HttpMethod.Get, "/");
        page.Headers.Add("Cookie", cookie);
        var pageResponse = await http.SendAsync(page, Ct);
        using var post = new HttpRequestMessage(HttpMethod.Post, "/api/webchat/messages") { Content = JsonContent.Create(new { chatId = "c1", clientMessageId = "m1", text = "你好" }) };
        post.Headers.Add("Cookie", cookie);
        var postResponse = await http.SendAsync(post, Ct);
        using var forged = new HttpRequestMessage(HttpMethod.Get, "/api/webchat/chats");
        forged.Headers.Add("Cookie", cookie[..^4] + "AAAA");
        var forgedResponse = await http.SendAsync(forged, Ct);

        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Contains("Wrong password", await wrong.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.SeeOther, right.StatusCode);
        Assert.Contains("httponly", string.Join(";", right.Headers.GetValues("Set-Cookie")), StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", string.Join(";", right.Headers.GetValues("Set-Cookie")), StringComparison.OrdinalIgnoreCase);
        Assert.Equal(HttpStatusCode.OK, pageResponse.StatusCode);
        Assert.Contains("<script>", await pageResponse.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Accepted, postResponse.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, forgedResponse.StatusCode);
    }

    [Fact]
    public async Task SessionCookie_OfflineGuessWithAFastKeyDerivation_DoesNotVerify()
    {
        // The attack: one cookie (expiry | HMAC(key(password), expiry)) lets an attacker test guesses offline, as
        // fast as the key derivation allows. With HKDF that was 160k guesses a second; the right guess through a
        // fast derivation must not verify, only the stretched one does.
        using var data = new TempDirectory();
        await using var app = await WebChatEndToEndTests.StartAsync(data, null, $"--WebChat:Password={Password}");
        using var http = Client(app);
        var token = System.Buffers.Text.Base64Url.DecodeFromChars(SessionCookie(await LoginAsync(http, Password)).Split('=', 2)[1]);
        var password = System.Text.Encoding.UTF8.GetBytes(Password);

        var fast = System.Security.Cryptography.HKDF.DeriveKey(System.Security.Cryptography.HashAlgorithmName.SHA256, password, 32, salt: [], info: "weseek webchat session"u8.ToArray());
        var stretched = System.Security.Cryptography.Rfc2898DeriveBytes.Pbkdf2(password, WebChatPasswordGate.Salt, WebChatPasswordGate.Iterations, System.Security.Cryptography.HashAlgorithmName.SHA256, 32);

        Assert.NotEqual(token[8..], System.Security.Cryptography.HMACSHA256.HashData(fast, token[..8]));
        Assert.Equal(token[8..], System.Security.Cryptography.HMACSHA256.HashData(stretched, token[..8]));
        Assert.True(WebChatPasswordGate.Iterations >= 600_000);
    }

    [Fact]
    public async Task ChangingThePassword_EndsEverySession()
    {
        using var data = new TempDirectory();
        string cookie;
        await using (var first = await WebChatEndToEndTests.StartAsync(data, null, $"--WebChat:Password={Password}"))
        {
            using var http = Client(first);
            cookie = SessionCookie(await LoginAsync(http, Password));
        }

        await using var second = await WebChatEndToEndTests.StartAsync(data, null, "--WebChat:Password=another one");
        using var client = Client(second);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/webchat/chats");
        request.Headers.Add("Cookie", cookie);

        Assert.Equal(HttpStatusCode.Unauthorized, (await client.SendAsync(request, Ct)).StatusCode);
    }

    [Fact]
    public async Task Attempts_AreLimitedPerAddress_EvenTheRightPasswordWaits()
    {
        using var data = new TempDirectory();
        await using var app = await WebChatEndToEndTests.StartAsync(data, null, $"--WebChat:Password={Password}", "--WebChat:LoginAttemptsPerMinute=2");
        using var http = Client(app);

        await LoginAsync(http, "a");
        await LoginAsync(http, "b");
        var limited = await LoginAsync(http, Password);

        Assert.Equal((HttpStatusCode)429, limited.StatusCode);
        Assert.Equal("60", limited.Headers.GetValues("Retry-After").Single());
        Assert.False(limited.Headers.Contains("Set-Cookie"));
    }

    [Fact]
    public async Task NoPassword_PageOpen_LoginIs404()
    {
        using var data = new TempDirectory();
        await using var app = await WebChatEndToEndTests.StartAsync(data, null);
        using var http = Client(app);

        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await LoginAsync(http, "x")).StatusCode);
    }

    private static HttpClient Client(Microsoft.AspNetCore.Builder.WebApplication app) =>
        new(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false }, disposeHandler: true) { BaseAddress = WebChatEndToEndTests.BaseAddress(app) };

    private static Task<HttpResponseMessage> LoginAsync(HttpClient http, string password) =>
        http.PostAsync("/api/webchat/login", new FormUrlEncodedContent([new("password", password)]), Ct);

    private static string SessionCookie(HttpResponseMessage response) =>
        response.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith(WebChatPasswordGate.CookieName + "=", StringComparison.Ordinal)).Split(';')[0];
}
