using System.Globalization;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using WeSeek.Inbox;
using WeSeek.Logging;
using WeSeek.Outbox;

namespace WeSeek.Storage.Postgres;

/// <summary>
/// Listens on <see cref="PostgresDatabase.NotifyChannel"/> and turns other instances' signals into this
/// process's: a stored message wakes the dispatcher, a completed turn wakes a channel waiting here to answer
/// passively (the turn ran elsewhere) and the sender, a released hold wakes the sender. One connection per
/// instance; when it drops, everything is woken once after reconnecting (a signal may have been missed), and the
/// loops' own polling covers the gap. Does nothing on SQLite.
/// </summary>
internal sealed partial class PostgresNotifications : BackgroundService
{
    private readonly StoreDatabase _database;
    private readonly TurnCompletions _completions;
    private readonly DispatchSignal _dispatch;
    private readonly OutboxSignal _outbox;
    private readonly TimeProvider _time;
    private readonly ILogger<PostgresNotifications> _logger;

    public PostgresNotifications(StoreDatabase database, TurnCompletions completions, DispatchSignal dispatch, OutboxSignal outbox, TimeProvider time, ILogger<PostgresNotifications> logger)
    {
        _database = database;
        _completions = completions;
        _dispatch = dispatch;
        _outbox = outbox;
        _time = time;
        _logger = logger;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_database is not PostgresDatabase postgres)
        {
            return;
        }

        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = await postgres.DataSource.OpenConnectionAsync(stoppingToken);
                connection.Notification += (_, e) => Handle(e.Payload);
                await using (var listen = connection.CreateCommand())
                {
                    listen.CommandText = $"LISTEN {PostgresDatabase.NotifyChannel};";
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                }

                _dispatch.Notify();
                _outbox.Notify();
                while (true)
                {
                    await connection.WaitAsync(stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is NpgsqlException or IOException or TimeoutException)
            {
                Log.ListenLost(_logger, ex, StorageOutage.RetryDelay);
                try
                {
                    await StorageOutage.PauseAsync(_time, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private void Handle(string payload)
    {
        var parts = payload.Split(':');
        if (parts.Length != 2 || !int.TryParse(parts[0], CultureInfo.InvariantCulture, out var signal) || !long.TryParse(parts[1], CultureInfo.InvariantCulture, out var id))
        {
            return;
        }

        switch ((StoreSignal)signal)
        {
            case StoreSignal.InboxStored:
                _dispatch.Notify();
                break;
            case StoreSignal.TurnCompleted:
                _completions.Complete(id);
                _outbox.Notify();
                break;
            case StoreSignal.HoldReleased:
                _outbox.Notify();
                break;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(WeSeekEventId.PostgresListenLost, LogLevel.Warning, "Lost the PostgreSQL notification connection; listening again in {Delay} (meanwhile instances find work by polling)")]
        public static partial void ListenLost(ILogger logger, Exception exception, TimeSpan delay);
    }
}
