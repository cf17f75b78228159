using System.Net;
using WeSeek.Host.Access;
using WeSeek.Host.Tests.WebChat;
using WeSeek.TestKit;

namespace WeSeek.Host.Tests.Access;

/// <summary>CIDR allow-lists per endpoint group, over real HTTP on loopback (the only address a test can
/// connect from, so "outside" is tested with lists that leave loopback out).</summary>
public sealed class AccessControlTests
{
    [Fact]
    public async Task Defaults_MetricsAndWebChatAnswerLoopback()
    {
        using var data = new TempDirectory();
        await using var app = await WebChatEndToEndTests.StartAsync(data, null);
        using var http = TestHttp.CreateClient(WebChatEndToEndTests.BaseAddress(app));

        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/metrics", TestContext.Current.CancellationToken)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/", TestContext.Current.CancellationToken)).StatusCode);
    }

    [Fact]
    public async Task ClientOutsideTheGroup_Gets403_OtherGroupsUnaffected()
    {
        using var data = new TempDirectory();
        await using var app = await WebChatEndToEndTests.StartAsync(data, null, "--Access:Groups:metrics:Allow:0=10.0.0.0/8", "--Access:Groups:metrics:Allow:1=2001:db8::/32");
        using var http = TestHttp.CreateClient(WebChatEndToEndTests.BaseAddress(app));

        var refused = await http.GetAsync("/metrics", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Contains("Access:Groups:metrics:Allow", await refused.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/", TestContext.Current.CancellationToken)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health/live", TestContext.Current.CancellationToken)).StatusCode);
    }

    [Fact]
    public async Task WebChatClosedToLoopback_PageAndApiRefused()
    {
        using var data = new TempDirectory();
        await using var app = await WebChatEndToEndTests.StartAsync(data, null, "--Access:Groups:webchat:Allow:0=192.0.2.7");
        using var http = TestHttp.CreateClient(WebChatEndToEndTests.BaseAddress(app));

        Assert.Equal(HttpStatusCode.Forbidden, (await http.GetAsync("/", TestContext.Current.CancellationToken)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await WebChatEndToEndTests.PostAsync(http, "c1", "m1", "你好")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/metrics", TestContext.Current.CancellationToken)).StatusCode);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (!System.Text.RegularExpressions.Regex.IsMatch(await http.GetStringAsync("/metrics", timeout.Token), @"weseek_access_denied_total\{[^}]*group=""webchat""[^}]*\} [1-9]"))
        {
            // The exporter caches a scrape briefly; ask again.
            await Task.Delay(200, timeout.Token);
        }
    }

    [Fact]
    public async Task LoopbackAlias_OutsideTheList_Refused_ListedAddressServed()
    {
        using var data = new TempDirectory();
        // The host listens on 127.0.0.1; the list admits that address alone.
        await using var app = await WebChatEndToEndTests.StartAsync(data, null, "--Access:Groups:webchat:Allow:0=127.0.0.1");
        var port = WebChatEndToEndTests.BaseAddress(app).Port;
        using var listed = From("127.0.0.1", port);
        using var alias = From("127.0.0.2", port);

        var served = await listed.GetAsync("/", TestContext.Current.CancellationToken);
        var refused = await alias.GetAsync("/", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
    }

    /// <summary>A client that connects to the host on 127.0.0.1 from <paramref name="source"/>, a loopback
    /// alias (Linux answers all of 127.0.0.0/8 on lo), so the host sees that address.</summary>
    private static HttpClient From(string source, int port)
    {
        var handler = new System.Net.Http.SocketsHttpHandler
        {
            ConnectCallback = async (context, cancellationToken) =>
            {
                var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
                try
                {
                    socket.Bind(new IPEndPoint(IPAddress.Parse(source), 0));
                    await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), cancellationToken);
                    return new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        return new HttpClient(handler, disposeHandler: true) { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
    }

    [Theory]
    [InlineData("::ffff:10.1.2.3", true)]
    [InlineData("10.1.2.3", true)]
    [InlineData("11.0.0.1", false)]
    [InlineData("2001:db8::1", true)]
    [InlineData("2001:db9::1", false)]
    public void IsAllowed_MatchesBothFamiliesAndMappedAddresses(string address, bool allowed) =>
        Assert.Equal(allowed, AccessControlMiddleware.IsAllowed(IPAddress.Parse(address), [AccessOptions.Parse("10.0.0.0/8"), AccessOptions.Parse("2001:db8::/32")]));

    [Fact]
    public async Task InvalidNetwork_StopsStartUpNamingTheKey()
    {
        using var data = new TempDirectory();
        var failure = await Assert.ThrowsAnyAsync<Exception>(() => WebChatEndToEndTests.StartAsync(data, null, "--Access:Groups:metrics:Allow:0=not-a-network"));

        Assert.Contains("Access:Groups:metrics:Allow:0", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GroupPortOutOfRange_StopsStartUpNamingTheKey()
    {
        using var data = new TempDirectory();
        var failure = await Assert.ThrowsAnyAsync<Exception>(() => WebChatEndToEndTests.StartAsync(data, null, "--Access:Groups:metrics:Port=70000"));

        Assert.Contains("Access:Groups:metrics:Port", failure.Message, StringComparison.Ordinal);
    }
}
