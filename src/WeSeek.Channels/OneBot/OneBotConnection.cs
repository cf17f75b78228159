using System.Buffers;
using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace WeSeek.Channels.OneBot;

/// <summary>One WebSocket to a OneBot 12 implementation: text frames of JSON in both directions, action
/// responses matched to their requests by <c>echo</c>. Sends are serialised (a WebSocket allows one writer).</summary>
internal sealed class OneBotConnection : IDisposable
{
    private const int MaxFrameBytes = 4 * 1024 * 1024;

    // Chinese as UTF-8, not \uXXXX: a third of the bytes, and readable in the implementation's logs. Frames are
    // never embedded in HTML, so the relaxed escaping is safe here.
    private static readonly JsonSerializerOptions Json = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private readonly WebSocket _socket;
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly ConcurrentDictionary<string, TaskCompletionSource<JsonElement>> _pending = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _actionOf = new(StringComparer.Ordinal);
    private long _echo;

    public OneBotConnection(WebSocket socket, string? impl)
    {
        _socket = socket;
        Impl = impl;
    }

    /// <summary>The implementation's name from the subprotocol (<c>12.ComWechat</c> → <c>ComWechat</c>) or
    /// <c>meta.connect</c>.</summary>
    public string? Impl { get; set; }

    /// <summary>The bot's own user id as <c>get_self_info</c> answered it; null until then.</summary>
    public string? SelfId { get; set; }

    /// <summary>The <c>interval</c> of the last heartbeat, if the implementation sends them.</summary>
    public TimeSpan? HeartbeatInterval { get; set; }

    public bool IsOpen => _socket.State == WebSocketState.Open;

    /// <summary>Reads the next text frame as JSON; null when the peer closed. Binary (MessagePack) frames are
    /// not spoken here and are skipped.</summary>
    public async Task<JsonElement?> ReceiveAsync(CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            while (true)
            {
                using var frame = new MemoryStream();
                ValueWebSocketReceiveResult result;
                do
                {
                    result = await _socket.ReceiveAsync(buffer.AsMemory(), cancellationToken);
                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        return null;
                    }

                    frame.Write(buffer, 0, result.Count);
                    if (frame.Length > MaxFrameBytes)
                    {
                        throw new WebSocketException(WebSocketError.Faulted, "A OneBot frame exceeded 4 MiB.");
                    }
                }
                while (!result.EndOfMessage);

                if (result.MessageType != WebSocketMessageType.Text)
                {
                    continue;
                }

                try
                {
                    using var doc = JsonDocument.Parse(frame.GetBuffer().AsMemory(0, (int)frame.Length));
                    return doc.RootElement.Clone();
                }
                catch (JsonException)
                {
                    // Not JSON: ignored, as the spec ignores what it cannot parse.
                    continue;
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>The action waiting for this <c>echo</c>, if one does.</summary>
    public string? ActionOf(string echo) => _actionOf.TryGetValue(echo, out var action) ? action : null;

    /// <summary>Completes the action waiting for this response's <c>echo</c>; false when none waits (late or foreign).</summary>
    public bool Complete(string echo, JsonElement response) =>
        _pending.TryRemove(echo, out var waiter) && waiter.TrySetResult(response);

    /// <summary>Sends an action and waits for its response, at most <paramref name="timeout"/>.</summary>
    public async Task<JsonElement> CallAsync(string action, JsonObject parameters, TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        var echo = "weseek-" + Interlocked.Increment(ref _echo).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var waiter = new TaskCompletionSource<JsonElement>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[echo] = waiter;
        _actionOf[echo] = action;
        try
        {
            var request = new JsonObject { ["action"] = action, ["params"] = parameters, ["echo"] = echo };
            await SendAsync(Encoding.UTF8.GetBytes(request.ToJsonString(Json)), cancellationToken);
            return await waiter.Task.WaitAsync(timeout, time, cancellationToken);
        }
        finally
        {
            _pending.TryRemove(echo, out _);
            _actionOf.TryRemove(echo, out _);
        }
    }

    private async Task SendAsync(ReadOnlyMemory<byte> json, CancellationToken cancellationToken)
    {
        await _sendLock.WaitAsync(cancellationToken);
        try
        {
            await _socket.SendAsync(json, WebSocketMessageType.Text, endOfMessage: true, cancellationToken);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    /// <summary>Fails every waiting action: the connection is gone.</summary>
    public void FailPending()
    {
        foreach (var echo in _pending.Keys)
        {
            if (_pending.TryRemove(echo, out var waiter))
            {
                waiter.TrySetException(new WebSocketException(WebSocketError.ConnectionClosedPrematurely, "The OneBot connection closed."));
            }
        }
    }

    public async Task CloseAsync(WebSocketCloseStatus status, string reason)
    {
        try
        {
            if (_socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await _socket.CloseOutputAsync(status, reason, cts.Token);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            _socket.Abort();
        }
    }

    public void Dispose()
    {
        FailPending();
        _sendLock.Dispose();
        _socket.Dispose();
    }
}
