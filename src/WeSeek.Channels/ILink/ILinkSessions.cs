using Microsoft.Extensions.Logging;
using WeSeek.Messaging;
using WeSeek.Operations;

namespace WeSeek.Channels.ILink;

/// <summary>
/// The logins the iLink channel can use and their end: the main account's session, else the backup's while the
/// main one is not logged in; the session in use now; and, on <c>errcode -14</c>, the dead token forgotten and
/// the operator told to scan again, once whether the poll or a send saw it first. Thread-safe.
/// </summary>
internal sealed partial class ILinkSessions
{
    private readonly ILinkOptions _options;
    private readonly IOperatorNotices _notices;
    private readonly ILinkMetrics _metrics;
    private readonly ILogger _logger;
    private readonly ChannelId _channel;
    private volatile ILinkSession? _current;
    private int _expired;
    private int _expiring;

    public ILinkSessions(ILinkOptions options, IChannelStateStore store, IOperatorNotices notices, ILinkMetrics metrics, ILogger logger, ChannelId channel)
    {
        _options = options;
        _notices = notices;
        _metrics = metrics;
        _logger = logger;
        _channel = channel;
        Main = new ILinkState(store, channel);
        Backup = string.IsNullOrEmpty(options.BackupAccount) ? null : new ILinkState(store, ChannelId.From("ilink:" + options.BackupAccount));
    }

    /// <summary>The main account's state; chat contexts live here whichever account answers.</summary>
    public ILinkState Main { get; }

    /// <summary>The backup account's state, or null without <see cref="ILinkOptions.BackupAccount"/>.</summary>
    public ILinkState? Backup { get; }

    /// <summary>The session the poller uses, or null before the first poll and after it expired.</summary>
    public ILinkSession? Current => _current;

    /// <summary>True from an expiry until the poller uses a session again (or the channel stops).</summary>
    public bool IsExpired => Volatile.Read(ref _expired) == 1;

    /// <summary>The main account's session, else the backup's, with the state it keeps its cursor in.</summary>
    public async Task<(ILinkSession Session, ILinkState Account)?> ActiveAsync(CancellationToken cancellationToken)
    {
        if (await Main.GetSessionAsync(_options.BaseUrl, cancellationToken) is { } main)
        {
            return (main, Main);
        }

        return Backup is not null && await Backup.GetSessionAsync(_options.BaseUrl, cancellationToken) is { } backup ? (backup, Backup) : null;
    }

    /// <summary>The poller polls with <paramref name="session"/> of <paramref name="account"/> from now on.</summary>
    public void Use(ILinkSession session, ILinkState account)
    {
        if (account != Main)
        {
            Log.BackupActive(_logger, _channel.Value, _options.BackupAccount!);
            _notices.Add($"微信 (iLink) {_channel.Value}: the backup account '{_options.BackupAccount}' answers until the main one is scanned again.");
        }

        _current = session;
        Volatile.Write(ref _expired, 0);
    }

    /// <summary>The channel stopped: a later expiry is announced again.</summary>
    public void Reset() => Volatile.Write(ref _expired, 0);

    /// <summary>iLink answered <c>errcode -14</c> to <paramref name="session"/> (of <paramref name="account"/>, or
    /// null when a send saw it): forgets its token and tells the operator to scan again, unless already done.</summary>
    public async Task ExpireAsync(ILinkSession session, ILinkState? account, CancellationToken cancellationToken)
    {
        if (_current == session)
        {
            _current = null;
        }

        // Once, whether the poll loop or a send saw the -14 first.
        if (IsExpired || Interlocked.Exchange(ref _expiring, 1) == 1)
        {
            return;
        }

        try
        {
            // The dead token is forgotten before anyone is told: whoever sees "expired" (the console, a test)
            // finds no token left to use. Only the account that holds this token forgets it (ExpireAsync compares).
            await Main.ExpireAsync(session.BotToken, cancellationToken);
            if (Backup is not null && account != Main)
            {
                await Backup.ExpireAsync(session.BotToken, cancellationToken);
            }

            Volatile.Write(ref _expired, 1);
            _metrics.SessionExpired.Add(1);
            Log.SessionExpired(_logger, _channel.Value);
            var login = account is not null && account == Backup ? "weseek login weixin --account " + _options.BackupAccount : "weseek login weixin";
            _notices.Add($"微信 (iLink) {_channel.Value}: the session expired (errcode -14). Scan again: run `{login}`.");
        }
        finally
        {
            Interlocked.Exchange(ref _expiring, 0);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(ChannelEventId.ILinkSessionExpired, LogLevel.Error, "{Channel}: the iLink session expired (errcode -14); polling stopped. Scan again: run `weseek login weixin`")]
        public static partial void SessionExpired(ILogger logger, string channel);

        [LoggerMessage(ChannelEventId.ILinkBackupActive, LogLevel.Warning, "{Channel}: the main account is not logged in; the backup account {Backup} answers")]
        public static partial void BackupActive(ILogger logger, string channel, string backup);
    }
}
