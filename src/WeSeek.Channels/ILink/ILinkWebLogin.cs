using Microsoft.Extensions.Logging;
using QRCoder;

namespace WeSeek.Channels.ILink;

/// <summary>Where a login started from the web console is.</summary>
public enum ILinkWebLoginStatus
{
    /// <summary>No login has been started.</summary>
    Idle,

    /// <summary>A QR code is on display, not scanned yet.</summary>
    WaitingForScan,

    /// <summary>Scanned; waiting for the confirmation on the phone.</summary>
    Scanned,

    /// <summary>Logged in; the channel picks the token up.</summary>
    LoggedIn,

    /// <summary>Ended without a login (expired, verification required, or an error); start again.</summary>
    Failed,
}

/// <summary>
/// A QR login run from the web console: at most one at a time, in the background, its current QR code
/// rendered as PNG. The CLI verb (<c>weseek login weixin</c>) is the other way to the same stored login.
/// Thread-safe.
/// </summary>
public sealed partial class ILinkWebLogin : IDisposable
{
    private readonly ILinkLogin _login;
    private readonly ILogger<ILinkWebLogin> _logger;
    private readonly Lock _gate = new();
    private readonly CancellationTokenSource _disposed = new();
    private Task _running = Task.CompletedTask;
    private string? _qrContent;

    internal ILinkWebLogin(ILinkLogin login, ILogger<ILinkWebLogin> logger)
    {
        _login = login;
        _logger = logger;
    }

    /// <summary>Where the login is.</summary>
    public ILinkWebLoginStatus Status { get; private set; }

    /// <summary>Starts a login unless one is running.</summary>
    public void Start()
    {
        lock (_gate)
        {
            if (!_running.IsCompleted)
            {
                return;
            }

            _qrContent = null;
            Status = ILinkWebLoginStatus.WaitingForScan;
            _running = Task.Run(RunAsync, CancellationToken.None);
        }
    }

    /// <summary>The current QR code as a PNG, or null when none is on display.</summary>
    public byte[]? QrPng()
    {
        var content = _qrContent;
        if (content is null || Status is not (ILinkWebLoginStatus.WaitingForScan or ILinkWebLoginStatus.Scanned))
        {
            return null;
        }

        using var generator = new QRCodeGenerator();
        using var data = generator.CreateQrCode(content, QRCodeGenerator.ECCLevel.M);
        using var png = new PngByteQRCode(data);
        return png.GetGraphic(8);
    }

    public void Dispose()
    {
        _disposed.Cancel();
        _disposed.Dispose();
    }

    private async Task RunAsync()
    {
        try
        {
            var result = await _login.RunAsync(
                (content, _) =>
                {
                    _qrContent = content;
                    Status = ILinkWebLoginStatus.WaitingForScan;
                    return Task.CompletedTask;
                },
                progress =>
                {
                    if (progress == ILinkLoginProgress.Scanned)
                    {
                        Status = ILinkWebLoginStatus.Scanned;
                    }
                },
                _disposed.Token);
            Status = result.Outcome is ILinkLoginOutcome.LoggedIn or ILinkLoginOutcome.AlreadyBound ? ILinkWebLoginStatus.LoggedIn : ILinkWebLoginStatus.Failed;
        }
        catch (OperationCanceledException) when (_disposed.IsCancellationRequested)
        {
            Status = ILinkWebLoginStatus.Failed;
        }
        catch (Exception ex) when (ex is HttpRequestException or ILinkApiException or System.Text.Json.JsonException or OperationCanceledException)
        {
            Log.Failed(_logger, ex);
            Status = ILinkWebLoginStatus.Failed;
        }
        finally
        {
            _qrContent = null;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(ChannelEventId.ILinkWebLoginFailed, LogLevel.Warning, "The login started from the web console failed")]
        public static partial void Failed(ILogger logger, Exception exception);
    }
}
