using System.ComponentModel.DataAnnotations;

namespace WeSeek.Moderation;

/// <summary>What to do with text that matches a word list, from least to most severe.</summary>
public enum ModerationAction
{
    /// <summary>Log and count only.</summary>
    Flag,

    /// <summary>Replace the matched characters with ＊ (outgoing text; incoming text is flagged).</summary>
    Mask,

    /// <summary>Refuse: an incoming message gets a polite fixed answer and no model call; an outgoing message
    /// is replaced by a polite notice.</summary>
    Block,
}

/// <summary>Sensitive-word filtering (敏感词过滤) on messages in and out. Section <c>Moderation</c>.</summary>
public sealed class ModerationOptions : IValidatableObject
{
    /// <summary>Word lists by name (the name appears in logs and metrics). Default none: moderation off.</summary>
    public IDictionary<string, WordListOptions> Lists { get; } = new Dictionary<string, WordListOptions>(StringComparer.Ordinal);

    /// <summary>The answer to a blocked incoming message.</summary>
    [Required]
    public string BlockedInputReply { get; set; } = "抱歉，这个话题我无法回答。";

    /// <summary>What replaces a blocked outgoing message.</summary>
    [Required]
    public string BlockedOutputReply { get; set; } = "抱歉，这部分内容无法显示。";

    /// <summary>An external moderation service asked about every message in and out, if set.</summary>
    public ExternalModerationOptions External { get; set; } = new();

    /// <summary>True when anything can block or mask: live token streaming is then off, so no unmoderated text
    /// reaches a browser before the finished answer has been checked.</summary>
    public bool Rewrites => Lists.Values.Any(l => l.Action != ModerationAction.Flag) || External.Url is not null;

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var (name, list) in Lists)
        {
            if (list.Words.Count == 0 && string.IsNullOrEmpty(list.File))
            {
                yield return new ValidationResult("has neither Words nor File", [$"{nameof(Lists)}:{name}"]);
            }

            if (list.PinyinMinLength < 0)
            {
                yield return new ValidationResult("must be 0 (off) or more", [$"{nameof(Lists)}:{name}:{nameof(WordListOptions.PinyinMinLength)}"]);
            }

            if (list.HomophoneMinLength < 0)
            {
                yield return new ValidationResult("must be 0 (off) or more", [$"{nameof(Lists)}:{name}:{nameof(WordListOptions.HomophoneMinLength)}"]);
            }

            if (!string.IsNullOrEmpty(list.File) && !File.Exists(list.File))
            {
                yield return new ValidationResult($"names a file that does not exist ({list.File})", [$"{nameof(Lists)}:{name}:{nameof(WordListOptions.File)}"]);
            }
        }

        if (External.Url is { } url && (!url.IsAbsoluteUri || url.Scheme is not ("http" or "https")))
        {
            yield return new ValidationResult("must be an absolute http or https URL", [$"{nameof(External)}:{nameof(ExternalModerationOptions.Url)}"]);
        }
    }
}

/// <summary>One word list: inline words and/or a UTF-8 file with one word per line (# starts a comment).</summary>
public sealed class WordListOptions
{
    /// <summary>What a match does. Default <see cref="ModerationAction.Block"/>.</summary>
    public ModerationAction Action { get; set; } = ModerationAction.Block;

    /// <summary>Words inline.</summary>
    public IList<string> Words { get; } = [];

    /// <summary>A word file, relative to the working directory or absolute.</summary>
    public string? File { get; set; }

    /// <summary>
    /// Words of at least this many Chinese characters are also matched when spelled in pinyin: "du bo", "DuBo",
    /// "dǔ bó", 赌bo for 赌博 — whole syllables of Latin-letter words that are pinyin on their own, tones ignored, so
    /// "Dubois" and "basic aircraft" are not 赌博 or 私彩. Default 2: every word of two characters or more (pinyin of a
    /// single character, "du", is in too much ordinary text). 0 turns pinyin off for the list.
    /// </summary>
    [Range(0, 100)]
    public int PinyinMinLength { get; set; } = 2;

    /// <summary>
    /// Words of at least this many Chinese characters are also matched by other characters of the same sound
    /// (谐音: 发轮功 for 法轮功, 带开发漂 for 代开发票), whole syllables only. Default 3: on the labelled set
    /// (docs/moderation.md) it catches every homophone of the longer words and blocks no ordinary sentence, while two
    /// characters sound like too many innocent words (杜博 and 读博 are 赌博). 0 turns it off for the list.
    /// </summary>
    [Range(0, 100)]
    public int HomophoneMinLength { get; set; } = 3;
}

/// <summary>
/// An HTTP moderation service: WeSeek POSTs <c>{"text": "…", "direction": "input"|"output"}</c> and expects
/// <c>{"block": true|false}</c>.
/// </summary>
public sealed class ExternalModerationOptions
{
    /// <summary>The service's URL. Default none.</summary>
    public Uri? Url { get; set; }

    /// <summary>Bearer token for the service, if it wants one. Never logged.</summary>
    public string? ApiKey { get; set; }

    /// <summary>How long one check may take. Default 2 s.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:01:00")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>When the service fails or times out: true lets the text through (fail-open, the default: an
    /// outage of the service does not silence the bot), false blocks it (fail-closed).</summary>
    public bool FailOpen { get; set; } = true;
}
