using System.Net.Sockets;

namespace WeSeek.TestKit;

/// <summary>HTTP clients and ports for tests over loopback.</summary>
public static class TestHttp
{
    /// <summary>A client for one test. The product uses IHttpClientFactory; a test owns its client outright. Clients
    /// given the same <paramref name="cookies"/> are one browser (the web chat knows its visitor by a cookie).</summary>
    public static HttpClient CreateClient(Uri baseAddress, System.Net.CookieContainer? cookies = null) =>
        new(cookies is null ? new SocketsHttpHandler() : new SocketsHttpHandler { CookieContainer = cookies }, disposeHandler: true) { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(60) };

    /// <summary>A loopback port free right now (for a child process that must be told its port).</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }
}
