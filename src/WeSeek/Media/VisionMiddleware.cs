using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using WeSeek.Conversations;
using WeSeek.Logging;
using WeSeek.Messaging;
using WeSeek.Pipeline;
using WeSeek.Replies;

namespace WeSeek.Media;

/// <summary>
/// What the vision model saw in the turn's images, set by <see cref="VisionMiddleware"/> when the message also asks
/// something. The context step sends <see cref="UserText"/> instead of the message's text, and history keeps it,
/// so later questions about the picture can use the description.
/// </summary>
/// <param name="Descriptions">One description per image that could be described, in the message's order.</param>
/// <param name="UserText">The question followed by the 图片描述 lines.</param>
public sealed record ImageDescriptionFeature(IReadOnlyList<string> Descriptions, string UserText);

/// <summary>
/// Image understanding: the images <see cref="MediaMiddleware"/> fetched are described by the vision endpoint
/// (<see cref="ImageDescriber"/>, cached by image hash). A message that is only a picture is answered
/// 「图片描述：…」 without the chat model (laid out by the composer), and the exchange is stored in the conversation's
/// history; a message with a
/// question gets the descriptions in its prompt (<see cref="ImageDescriptionFeature"/>). Images that cannot be
/// described change nothing: the turn answers from the text. Does nothing until <c>Vision:Endpoint</c> is set.
/// </summary>
internal sealed partial class VisionMiddleware : ITurnMiddleware
{
    /// <summary>How each description is shown, to the user and in the prompt.</summary>
    public const string Label = "图片描述：";

    private readonly ImageDescriber _describer;
    private readonly ComposerMiddleware _composer;
    private readonly ITokenCounter _tokens;
    private readonly ILogger<VisionMiddleware> _logger;

    public VisionMiddleware(ImageDescriber describer, ComposerMiddleware composer, ITokenCounter tokens, ILogger<VisionMiddleware> logger)
    {
        _describer = describer;
        _composer = composer;
        _tokens = tokens;
        _logger = logger;
    }

    public async Task InvokeAsync(Turn turn, TurnDelegate next)
    {
        ArgumentNullException.ThrowIfNull(turn);
        ArgumentNullException.ThrowIfNull(next);
        if (!_describer.Enabled || turn.Features.Get<MediaFeature>() is not { Images.Count: > 0 } media)
        {
            await next(turn);
            return;
        }

        var descriptions = new List<string>(media.Images.Count);
        foreach (var image in media.Images)
        {
            if (await _describer.DescribeAsync(image, turn.InboxId, turn.Aborted) is { } description)
            {
                descriptions.Add(description);
            }
        }

        if (descriptions.Count == 0)
        {
            await next(turn);
            return;
        }

        var described = string.Join('\n', descriptions.Select(d => Label + d));
        var question = Question(turn.Message);
        if (question.Length > 0)
        {
            turn.Features.Set(new ImageDescriptionFeature(descriptions, question + "\n\n" + described));
            await next(turn);
            return;
        }

        // Only a picture: the description is the answer. History keeps both sides, so 「图里有几个人？」 next
        // has the description in its context.
        var userContent = string.Concat(Enumerable.Repeat("[图片]", descriptions.Count)) + "\n" + described;
        turn.Features.Set(new ConversationFeature(turn.ConversationKey, new List<ChatMessage>(), userContent, _tokens.Count(userContent), showThinking: false)
        {
            Answer = described,
            AnswerTokens = _tokens.Count(described),
        });
        Log.Answered(_logger, turn.InboxId, descriptions.Count);

        // Laid out by the composer like a model's answer: vision models write Markdown, and several long
        // descriptions may need more than one message within the channel's limits.
        await _composer.InvokeAsync(turn, static _ => Task.CompletedTask);
    }

    /// <summary>
    /// The message's text without the channel's rendering of its images ("[图片]", WeChat's PicUrl): what the user
    /// asked, or empty when the message is only pictures.
    /// </summary>
    internal static string Question(InboundMessage message)
    {
        var text = message.Text;
        foreach (var attachment in message.Attachments)
        {
            if (!string.IsNullOrEmpty(attachment.Url))
            {
                text = text.Replace(attachment.Url, "", StringComparison.Ordinal);
            }
        }

        return text.Replace("[图片]", "", StringComparison.Ordinal).Trim();
    }

    private static partial class Log
    {
        [LoggerMessage(WeSeekEventId.ImageAnswered, LogLevel.Debug, "Message {InboxId} answered with the description of its {Images} image(s)")]
        public static partial void Answered(ILogger logger, long inboxId, int images);
    }
}
