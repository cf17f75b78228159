using System.ComponentModel.DataAnnotations;

namespace WeSeek.Feedback;

/// <summary>Users' ratings of answers (👍/👎 and corrections). Section <c>Feedback</c>.</summary>
public sealed class FeedbackOptions
{
    /// <summary>Whether answers are kept for rating and 「👍」「👎」, <c>/好评</c>, <c>/差评</c> are taken as ratings.
    /// Default true. Off, those messages go to the model like any other and nothing is kept for export.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>How long after an answer a 「👍」 or 「👎」 in a WeChat chat still rates it. Default 10 minutes: long
    /// enough to read an answer and reply, short enough that a thumb sent hours later is not taken for a rating of
    /// something the user has forgotten.</summary>
    [Range(typeof(TimeSpan), "00:00:10", "1.00:00:00")]
    public TimeSpan Window { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How long an answer nobody rated keeps the prompt it was given (to be rated later from the web
    /// chat's history). Default 7 days; rated answers are kept until deleted.</summary>
    [Range(typeof(TimeSpan), "00:10:00", "365.00:00:00")]
    public TimeSpan KeepUnratedFor { get; set; } = TimeSpan.FromDays(7);

    /// <summary>The longest correction taken. Default 4,000 characters, the web chat's message limit.</summary>
    [Range(1, 100_000)]
    public int MaxCorrectionLength { get; set; } = 4000;
}
