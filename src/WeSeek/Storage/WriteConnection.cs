using System.Data.Common;

namespace WeSeek.Storage;

/// <summary>A connection opened for writing (<see cref="StoreDatabase.OpenWriterAsync"/>), holding the
/// process's write turn until disposed where the provider has one (SQLite).</summary>
internal sealed class WriteConnection : IAsyncDisposable
{
    private readonly SemaphoreSlim? _writeLock;
    private bool _disposed;

    public WriteConnection(DbConnection connection, SemaphoreSlim? writeLock)
    {
        Connection = connection;
        _writeLock = writeLock;
    }

    public DbConnection Connection { get; }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        try
        {
            await Connection.DisposeAsync();
        }
        finally
        {
            _writeLock?.Release();
        }
    }
}
