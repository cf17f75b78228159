using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WeSeek.Hosting;
using WeSeek.Logging;
using WeSeek.Messaging;
using WeSeek.Pipeline;

namespace WeSeek.Media;

/// <summary>How attachments are fetched. Section <c>Media</c>.</summary>
public sealed class MediaOptions
{
    /// <summary>Fetch images into the turn. Default true.</summary>
    public bool DownloadImages { get; set; } = true;

    /// <summary>Largest attachment fetched, in bytes. Default 10 MiB (WeChat's image limit).</summary>
    [Range(1024, 100L * 1024 * 1024)]
    public long MaxBytes { get; set; } = 10L * 1024 * 1024;

    /// <summary>How long one download may take. Default 10 s.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:05:00")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);
}

/// <summary>The attachments of the turn's message that could be fetched, as model content.</summary>
/// <param name="Images">Downloaded images, in the message's order.</param>
public sealed record MediaFeature(IReadOnlyList<DataContent> Images);

/// <summary>
/// Fetches the message's images through its channel (<see cref="IMediaSource"/>) into <see cref="MediaFeature"/>,
/// for the steps after it (image understanding, a vision model). A download that fails is logged and the turn
/// goes on with the message's text rendering ("[图片] …"): a picture that cannot be seen is no reason to leave a
/// user without an answer. Nothing is fetched for channels without a media source.
/// </summary>
internal sealed partial class MediaMiddleware : ITurnMiddleware
{
    private readonly ChannelRegistry _channels;
    private readonly MediaOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<MediaMiddleware> _logger;

    public MediaMiddleware(ChannelRegistry channels, IOptionsSnapshot<MediaOptions> options, TimeProvider time, ILogger<MediaMiddleware> logger)
    {
        _channels = channels;
        _options = options.Value;
        _time = time;
        _logger = logger;
    }

    public async Task InvokeAsync(Turn turn, TurnDelegate next)
    {
        ArgumentNullException.ThrowIfNull(turn);
        ArgumentNullException.ThrowIfNull(next);
        var images = turn.Message.Attachments.Where(a => a.Kind == MessageKind.Image).ToList();
        if (images.Count > 0 && _options.DownloadImages && _channels.Find(turn.Message.Channel) is IMediaSource source)
        {
            var fetched = new List<DataContent>(images.Count);
            foreach (var image in images)
            {
                using var timeout = new CancellationTokenSource(_options.Timeout, _time);
                using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, turn.Aborted);
                try
                {
                    var content = await source.DownloadAsync(turn.Message, image, _options.MaxBytes, linked.Token);
                    fetched.Add(new DataContent(content.Data, content.MediaType));
                    Log.Fetched(_logger, turn.InboxId, content.Data.Length, content.MediaType);
                }
                catch (Exception ex) when (ex is MediaUnavailableException or HttpRequestException || (ex is OperationCanceledException && timeout.IsCancellationRequested && !turn.Aborted.IsCancellationRequested))
                {
                    Log.Unavailable(_logger, turn.InboxId, ex.Message);
                }
            }

            turn.Features.Set(new MediaFeature(fetched));
        }

        await next(turn);
    }

    private static partial class Log
    {
        [LoggerMessage(WeSeekEventId.MediaFetched, LogLevel.Debug, "Fetched an image of {Bytes} bytes ({MediaType}) for message {InboxId}")]
        public static partial void Fetched(ILogger logger, long inboxId, int bytes, string mediaType);

        [LoggerMessage(WeSeekEventId.MediaUnavailable, LogLevel.Warning, "Could not fetch an image of message {InboxId}; answering from its text: {Reason}")]
        public static partial void Unavailable(ILogger logger, long inboxId, string reason);
    }
}
