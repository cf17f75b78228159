using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WeSeek.Conversations;
using WeSeek.Logging;
using WeSeek.Pipeline;

namespace WeSeek.Feedback;

/// <summary>
/// Ratings in the chat: a reply of 「👍」 or 「👎」 (WeChat's own [强] and [弱] too), <c>/好评</c> or <c>/差评</c> (a 👎
/// may carry a correction after it: 「/差评 更好的回答是…」) within <see cref="FeedbackOptions.Window"/> of an answer
/// rates that answer, is acknowledged in a line, and never reaches the model. Every other turn goes on, and its
/// answer (with the prompt exactly as the model was given it) is kept so that it can be rated.
/// </summary>
internal sealed partial class FeedbackMiddleware(IFeedbackStore store, IAnswerFeedback feedback, IOptionsSnapshot<FeedbackOptions> options, TimeProvider time, ILogger<FeedbackMiddleware> logger) : ITurnMiddleware
{
    public async Task InvokeAsync(Turn turn, TurnDelegate next)
    {
        ArgumentNullException.ThrowIfNull(turn);
        ArgumentNullException.ThrowIfNull(next);
        var settings = options.Value;
        if (!settings.Enabled)
        {
            await next(turn);
            return;
        }

        if (Parse(turn.Message.Text) is { } rating)
        {
            turn.Replies.Add(await RateAsync(turn, rating.Kind, rating.Correction, rating.Ignored, settings));
            return;
        }

        await next(turn);
        if (turn.Features.Get<ConversationFeature>() is { Answer: { } answer, CutOff: false } conversation)
        {
            var now = time.GetUtcNow();
            var prompt = conversation.Messages.Select(m => new PromptMessage(m.Role.Value, m.Text)).ToList();
            try
            {
                await store.KeepAnswerAsync(new RatedAnswer(turn.InboxId, turn.ConversationKey, turn.Message.Channel.Value, turn.Message.ChatId, prompt, answer, null, now), now - settings.KeepUnratedFor, turn.Aborted);
            }
            catch (SqliteException ex)
            {
                // The answer goes out either way; it just cannot be rated.
                Log.AnswerNotKept(logger, turn.InboxId, ex);
            }
        }
    }

    private async Task<string> RateAsync(Turn turn, FeedbackKind kind, string? correction, bool ignored, FeedbackOptions settings)
    {
        var minutes = Math.Max(1, (int)Math.Round(settings.Window.TotalMinutes));
        if (await store.LatestAnswerAsync(turn.ConversationKey, time.GetUtcNow() - settings.Window, turn.Aborted) is not { } answered)
        {
            Log.WithoutAnswer(logger, turn.InboxId);
            return $"没有找到 {minutes} 分钟内的回答可以评价：先提问，再在回答后 {minutes} 分钟内回复 👍 或 👎。(No answer from the last {minutes} minutes to rate.)";
        }

        var outcome = await feedback.RecordAsync(new AnswerFeedback(turn.Message.Channel, turn.Message.ChatId, answered, kind, correction), turn.Aborted);
        return outcome switch
        {
            FeedbackOutcome.TooLong => $"更正太长了，最多 {settings.MaxCorrectionLength} 字。(The correction is too long.)",
            FeedbackOutcome.NoSuchAnswer => "这个回答已经不能评价了。(That answer can no longer be rated.)",
            _ when kind == FeedbackKind.Up && ignored => "收到 👍，谢谢！（好评后的文字没有保存；要给出更好的回答，请用「/差评 更好的回答」。）",
            _ when kind == FeedbackKind.Up => "收到 👍，谢谢！",
            _ when correction is not null => "收到 👎 和你的更正，谢谢！它会用来改进回答。",
            _ => "收到 👎，谢谢反馈。也可以发送「/差评 更好的回答」告诉我应该怎么答。",
        };
    }

    private static readonly string[] UpMarks = ["👍", "[强]", "/好评", "／好评"];
    private static readonly string[] DownMarks = ["👎", "[弱]", "/差评", "／差评"];

    /// <summary>
    /// The rating a message gives, or null when it is not one. 👎 and /差评 take the rest of the message as the
    /// correction. A thumb followed by other text is a message, not a rating ("👍 那第二个呢？"), except after the
    /// commands, where the text after /好评 is ignored (a correction only makes sense with a 👎).
    /// </summary>
    internal static (FeedbackKind Kind, string? Correction, bool Ignored)? Parse(string? text)
    {
        var message = text?.Trim() ?? "";
        foreach (var (marks, kind) in new[] { (UpMarks, FeedbackKind.Up), (DownMarks, FeedbackKind.Down) })
        {
            foreach (var mark in marks)
            {
                if (!message.StartsWith(mark, StringComparison.Ordinal))
                {
                    continue;
                }

                // Skin tones and the emoji variation selector belong to the thumb.
                var rest = message[mark.Length..].TrimStart('\uFE0F', '\u200D');
                if (rest.Length >= 2 && char.IsSurrogatePair(rest[0], rest[1]) && char.ConvertToUtf32(rest[0], rest[1]) is >= 0x1F3FB and <= 0x1F3FF)
                {
                    rest = rest[2..];
                }

                var command = mark[0] is '/' or '／';
                if (command && rest.Length > 0 && !char.IsWhiteSpace(rest[0]) && rest[0] is not (':' or '：' or ',' or '，'))
                {
                    return null; // "/好评价" is not "/好评".
                }

                rest = rest.Trim().TrimStart(':', '：', ',', '，').Trim();
                if (rest.Length == 0)
                {
                    return (kind, null, false);
                }

                if (kind == FeedbackKind.Down)
                {
                    return (kind, rest, false);
                }

                return command ? (kind, null, true) : null;
            }
        }

        return null;
    }

    private static partial class Log
    {
        [LoggerMessage(WeSeekEventId.FeedbackWithoutAnswer, LogLevel.Information, "Message {InboxId} rates an answer, but its chat had none within Feedback:Window; told so")]
        public static partial void WithoutAnswer(ILogger logger, long inboxId);

        [LoggerMessage(WeSeekEventId.FeedbackAnswerNotKept, LogLevel.Warning, "The answer to message {InboxId} could not be kept for rating; it is sent as usual")]
        public static partial void AnswerNotKept(ILogger logger, long inboxId, Exception exception);
    }
}
