using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using WeSeek.Messaging;
using WeSeek.Operations;

namespace WeSeek.Channels.ILink;

/// <summary>
/// The iLink channel's "对方正在输入": one keep-alive loop per chat from the moment a message is stored until its
/// reply goes out (or <see cref="ILinkOptions.TypingMax"/>), with the chat's typing ticket cached for half its
/// lifetime. A courtesy: a failure is logged at Debug and never fails a message. Thread-safe.
/// </summary>
internal sealed partial class ILinkTyping(ILinkApiClient api, ILinkOptions options, ReplyInstruments replies, TimeProvider time, ILogger logger, ChannelId channel)
{
    private readonly ILinkApiClient _api = api;
    private readonly ILinkOptions _options = options;
    private readonly ReplyInstruments _replies = replies;
    private readonly TimeProvider _time = time;
    private readonly ILogger _logger = logger;
    private readonly ChannelId _channel = channel;
    private readonly ConcurrentDictionary<string, CancellationTokenSource> _typing = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, (string Ticket, DateTimeOffset Until)> _tickets = new(StringComparer.Ordinal);

    /// <summary>Stops typing everywhere (the channel stops).</summary>
    public void StopAll()
    {
        foreach (var chat in _typing.Keys)
        {
            Stop(chat);
        }
    }

    /// <summary>Starts typing in <paramref name="chatId"/>; false when it already types there.</summary>
    public bool Start(ILinkSession session, string chatId, string? contextToken)
    {
        var cts = new CancellationTokenSource();
        if (!_typing.TryAdd(chatId, cts))
        {
            cts.Dispose();
            return false;
        }

        _ = Task.Run(() => TypeAsync(session, chatId, contextToken, cts), CancellationToken.None);
        return true;
    }

    /// <summary>Stops typing in <paramref name="chatId"/> when <paramref name="started"/> (what <see cref="Start"/> answered).</summary>
    public void StopIf(bool started, string chatId)
    {
        if (started)
        {
            Stop(chatId);
        }
    }

    /// <summary>Stops typing in <paramref name="chatId"/> (the reply is going out), if it types there.</summary>
    public void Stop(string chatId)
    {
        if (_typing.TryRemove(chatId, out var cts))
        {
            try
            {
                cts.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // Its keep-alive ended on its own (TypingMax) at the same moment.
            }
        }
    }

    private async Task TypeAsync(ILinkSession session, string chatId, string? contextToken, CancellationTokenSource cts)
    {
        var startedAt = _time.GetTimestamp();
        string? ticket = null;
        try
        {
            ticket = await TicketAsync(session, chatId, contextToken, cts.Token);
            if (ticket is null)
            {
                return;
            }

            var until = _time.GetUtcNow() + _options.TypingMax;
            var first = true;
            while (_time.GetUtcNow() < until)
            {
                await _api.SendTypingAsync(session, chatId, ticket, typing: true, cts.Token);
                if (first)
                {
                    first = false;
                    _replies.RecordTyping(_time.GetElapsedTime(startedAt), _channel.Value);
                }

                await Task.Delay(_options.TypingKeepAlive, _time, cts.Token);
            }
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
        }
        catch (Exception ex) when (ex is ILinkApiException or HttpRequestException or JsonException)
        {
            // Typing is a courtesy; a failure of it never fails a message.
            Log.TypingFailed(_logger, _channel.Value, ex.Message);
        }
        finally
        {
            _typing.TryRemove(new KeyValuePair<string, CancellationTokenSource>(chatId, cts));
            cts.Dispose();
        }

        if (ticket is not null)
        {
            try
            {
                await _api.SendTypingAsync(session, chatId, ticket, typing: false, CancellationToken.None);
            }
            catch (Exception ex) when (ex is ILinkApiException or HttpRequestException or JsonException or OperationCanceledException)
            {
                Log.TypingFailed(_logger, _channel.Value, ex.Message);
            }
        }
    }

    private async Task<string?> TicketAsync(ILinkSession session, string chatId, string? contextToken, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        if (_tickets.TryGetValue(chatId, out var cached) && cached.Until > now)
        {
            return cached.Ticket;
        }

        if (await _api.GetTypingTicketAsync(session, chatId, contextToken, cancellationToken) is not { } ticket)
        {
            return null;
        }

        // A typing ticket is valid for about a day (anchors.md §4.1); renew it well before.
        _tickets[chatId] = (ticket, now + TimeSpan.FromHours(12));
        return ticket;
    }

    private static partial class Log
    {
        [LoggerMessage(ChannelEventId.ILinkTypingFailed, LogLevel.Debug, "{Channel}: typing status failed: {Reason}")]
        public static partial void TypingFailed(ILogger logger, string channel, string reason);
    }
}
