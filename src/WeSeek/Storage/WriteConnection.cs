using Microsoft.Data.Sqlite;

namespace WeSeek.Storage;

/// <summary>A connection opened for writing, holding the process's write turn until disposed
/// (<see cref="SqliteDatabase.OpenWriterAsync"/>).</summary>
internal sealed class WriteConnection : IAsyncDisposable
{
    private readonly SemaphoreSlim _writeLock;
    private bool _disposed;

    public WriteConnection(SqliteConnection connection, SemaphoreSlim writeLock)
    {
        Connection = connection;
        _writeLock = writeLock;
    }

    public SqliteConnection Connection { get; }

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
            _writeLock.Release();
        }
    }
}
