using System.Net;
using System.Net.Sockets;

namespace WeSeek.TestKit;

/// <summary>
/// A TCP relay on loopback in front of a server (PostgreSQL), so that a test can take the server away from one
/// client without stopping it for others: <see cref="CutAsync"/> resets every relayed connection and refuses new
/// ones (connection refused, as from a stopped server); <see cref="Restore"/> listens again on the same port.
/// Thread-safe.
/// </summary>
public sealed class LoopbackTcpProxy : IAsyncDisposable
{
    private readonly IPEndPoint _target;
    private readonly object _gate = new();
    private readonly List<Socket> _open = [];
    private TcpListener? _listener;
    private CancellationTokenSource _accepting = new();
    private Task _acceptLoop = Task.CompletedTask;

    private LoopbackTcpProxy(IPEndPoint target, int port)
    {
        _target = target;
        Port = port;
    }

    /// <summary>The loopback port clients connect to.</summary>
    public int Port { get; }

    /// <summary>Connections relayed so far.</summary>
    public int Accepted => Volatile.Read(ref _accepted);

    private int _accepted;

    /// <summary>Starts relaying a free loopback port to <paramref name="host"/>:<paramref name="port"/>.</summary>
    public static async Task<LoopbackTcpProxy> StartAsync(string host, int port)
    {
        var addresses = await Dns.GetHostAddressesAsync(host);
        var proxy = new LoopbackTcpProxy(new IPEndPoint(addresses.First(a => a.AddressFamily == AddressFamily.InterNetwork), port), TestHttp.FreePort());
        proxy.Restore();
        return proxy;
    }

    /// <summary>Listens again (after <see cref="CutAsync"/>): new connections reach the server.</summary>
    public void Restore()
    {
        lock (_gate)
        {
            if (_listener is not null)
            {
                return;
            }

            _accepting = new CancellationTokenSource();
            _listener = new TcpListener(IPAddress.Loopback, Port);
            _listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            _listener.Start();
            var listener = _listener;
            var token = _accepting.Token;
            _acceptLoop = Task.Run(() => AcceptAsync(listener, token), CancellationToken.None);
        }
    }

    /// <summary>Stops listening and resets every relayed connection: the server is gone for the clients.</summary>
    public async Task CutAsync()
    {
        Task loop;
        lock (_gate)
        {
            if (_listener is null)
            {
                return;
            }

            _accepting.Cancel();
            _listener.Stop();
            _listener = null;
            loop = _acceptLoop;
            foreach (var socket in _open)
            {
                try
                {
                    // Linger 0: close sends RST, as a server that died would.
                    socket.LingerState = new LingerOption(true, 0);
                    socket.Close();
                }
                catch (ObjectDisposedException)
                {
                }
            }

            _open.Clear();
        }

        await loop.ContinueWith(static _ => { }, TaskScheduler.Default);
    }

    private async Task AcceptAsync(TcpListener listener, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await listener.AcceptSocketAsync(cancellationToken);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            var server = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                await server.ConnectAsync(_target, cancellationToken);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException)
            {
                client.Dispose();
                server.Dispose();
                continue;
            }

            lock (_gate)
            {
                if (cancellationToken.IsCancellationRequested)
                {
                    client.Dispose();
                    server.Dispose();
                    return;
                }

                _open.Add(client);
                _open.Add(server);
            }

            Interlocked.Increment(ref _accepted);
            _ = Task.Run(() => RelayAsync(client, server), CancellationToken.None);
            _ = Task.Run(() => RelayAsync(server, client), CancellationToken.None);
        }
    }

    private async Task RelayAsync(Socket from, Socket to)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            while (true)
            {
                var read = await from.ReceiveAsync(buffer, SocketFlags.None);
                if (read == 0)
                {
                    to.Shutdown(SocketShutdown.Send);
                    return;
                }

                await to.SendAsync(buffer.AsMemory(0, read), SocketFlags.None);
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            lock (_gate)
            {
                foreach (var socket in new[] { from, to })
                {
                    if (_open.Remove(socket))
                    {
                        socket.Dispose();
                    }
                }
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await CutAsync();
        _accepting.Dispose();
    }
}
