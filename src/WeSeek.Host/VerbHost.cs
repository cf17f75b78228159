namespace WeSeek.Host;

/// <summary>
/// A verb's built host (<see cref="HostComposition.BuildHostAsync"/>), disposed asynchronously with
/// <c>await using</c>: services that release what they hold only in <c>DisposeAsync</c> (the database's
/// connections) do so before the process exits, whether or not the host was started.
/// </summary>
internal sealed class VerbHost(IHost host) : IAsyncDisposable
{
    /// <summary>The verb's services.</summary>
    public IServiceProvider Services => host.Services;

    /// <summary>Starts the hosted services (the bot's dispatcher and outbox, for <c>chat</c>).</summary>
    public Task StartAsync(CancellationToken cancellationToken) => host.StartAsync(cancellationToken);

    /// <summary>Stops the hosted services, letting running turns finish.</summary>
    public Task StopAsync(CancellationToken cancellationToken) => host.StopAsync(cancellationToken);

    public ValueTask DisposeAsync()
    {
        if (host is IAsyncDisposable asynchronous)
        {
            return asynchronous.DisposeAsync();
        }

        host.Dispose();
        return ValueTask.CompletedTask;
    }
}
