using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WeSeek.Logging;
using WeSeek.Operations;
using WeSeek.Security;

namespace WeSeek.Feedback;

/// <summary>
/// <see cref="IAnswerFeedback"/>: stores a rating with its answer, appends it to the audit log (the correction's hash,
/// never its text), counts it in <c>weseek_feedback_total{kind}</c> and logs it without content.
/// </summary>
internal sealed partial class AnswerFeedbackService(IFeedbackStore store, AuditLog audit, IOptions<FeedbackOptions> options, TimeProvider time, ILogger<AnswerFeedbackService> logger, WeSeekMetrics metrics) : IAnswerFeedback
{
    public async Task<FeedbackOutcome> RecordAsync(AnswerFeedback feedback, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(feedback);
        // A correction is a better answer: it only goes with a 👎.
        var correction = feedback.Kind == FeedbackKind.Up || string.IsNullOrWhiteSpace(feedback.Correction) ? null : feedback.Correction.Trim();
        if (correction?.Length > options.Value.MaxCorrectionLength)
        {
            return FeedbackOutcome.TooLong;
        }

        if (!await store.RateAsync(feedback.InboxId, feedback.Channel, feedback.ChatId, feedback.Kind, correction, time.GetUtcNow(), cancellationToken))
        {
            return FeedbackOutcome.NoSuchAnswer;
        }

        var kind = feedback.Kind == FeedbackKind.Up ? "up" : "down";
        await audit.AppendAsync("feedback", new JsonObject
        {
            ["inboxId"] = feedback.InboxId,
            ["channel"] = feedback.Channel.Value,
            ["kind"] = kind,
            ["correctionSha256"] = correction is null ? null : AuditLog.Sha256(correction),
        }, CancellationToken.None);
        metrics.Feedback.Add(1, new KeyValuePair<string, object?>("kind", kind), new KeyValuePair<string, object?>("correction", correction is null ? "false" : "true"));
        Log.Recorded(logger, kind, feedback.InboxId, feedback.Channel.Value, correction is not null);
        return FeedbackOutcome.Recorded;
    }

    private static partial class Log
    {
        [LoggerMessage(WeSeekEventId.FeedbackRecorded, LogLevel.Information, "Feedback {Kind} on the answer to message {InboxId} ({Channel}); correction: {WithCorrection}")]
        public static partial void Recorded(ILogger logger, string kind, long inboxId, string channel, bool withCorrection);
    }
}
