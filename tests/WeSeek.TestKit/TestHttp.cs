using System.Net.Sockets;

namespace WeSeek.TestKit;

/// <summary>HTTP clients and ports for tests over loopback.</summary>
public static class TestHttp
{
    /// <summary>A client for one test. The product uses IHttpClientFactory; a test owns its client outright.</summary>
    public static HttpClient CreateClient(Uri baseAddress) =>
        new(new SocketsHttpHandler(), disposeHandler: true) { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(60) };

    /// <summary>A loopback port free right now (for a child process that must be told its port).</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }
}
