using System.ComponentModel.DataAnnotations;

namespace WeSeek.Conversations;

/// <summary>Conversation memory. Section <c>Context</c>.</summary>
public sealed class ContextOptions
{
    /// <summary>
    /// Most tokens of history (persona, earlier turns and the new message) a prompt carries. Default 4,096:
    /// a quarter of the R1 distills' 16k training window, leaving room for long reasoning in the rest.
    /// </summary>
    [Range(256, 1_048_576)]
    public int MaxTokens { get; set; } = 4096;

    /// <summary>
    /// When the window is full, it compacts to this fraction of <see cref="MaxTokens"/> by dropping the oldest
    /// turns at once, then stays append-only until full again (an epoch). Default 0.5: half the window is
    /// kept, so a compaction (and the one cache rebuild it costs) happens at most every few turns, not on
    /// every turn as a sliding window would.
    /// </summary>
    [Range(0.1, 0.9)]
    public double CompactTo { get; set; } = 0.5;

    /// <summary>Whether a group shares one context or each member has their own. Default
    /// <see cref="GroupContextScope.Shared"/>: a group conversation reads as one thread.</summary>
    public GroupContextScope GroupScope { get; set; } = GroupContextScope.Shared;

    /// <summary>Most of a group's recent messages (the ones the bot was not asked, and other members'
    /// questions the asking thread has not seen) shown with a question asked in that group, as read-only
    /// context attributed by user id. Default 20: about the screenful a member sees when they ask; 0 turns the
    /// window off. Bodies of unanswered messages beyond it are erased.</summary>
    [Range(0, 200)]
    public int GroupWindowMessages { get; set; } = 20;

    /// <summary>Oldest group message the window shows. Default 30 minutes: a conversation in a group rarely
    /// refers further back, and older chatter is erased rather than kept.</summary>
    [Range(typeof(TimeSpan), "00:00:10", "7.00:00:00")]
    public TimeSpan GroupWindowMaxAge { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>Most tokens the group window takes of the prompt (counted inside <see cref="MaxTokens"/>, so
    /// history compacts to make room), and never more than half of it; the oldest lines are left out first.
    /// Default 1,024: a quarter of the default window, leaving the asker's own thread the larger share.</summary>
    [Range(64, 262_144)]
    public int GroupWindowMaxTokens { get; set; } = 1024;

    /// <summary>
    /// The assistant's persona and rules. For the original R1 distills it is folded into the first user turn
    /// of the window (DeepSeek advises no system prompt); see <c>Model:SystemPrompt</c>. Default: a short
    /// WeChat-assistant persona in Chinese.
    /// </summary>
    [MaxLength(8000)]
    public string Persona { get; set; } = "你是 WeSeek，一个微信里的智能助手。回答简洁、准确、友好；用用户使用的语言回答；不确定时直说。";

    /// <summary>Adds the current date and time to the new user message (never to the persona, so the
    /// prompt prefix stays byte-stable). Default true: R1 otherwise guesses the date from its training data.</summary>
    public bool IncludeCurrentTime { get; set; } = true;

    /// <summary>Time zone for the current time. Default <c>Asia/Shanghai</c>, where WeChat's users are.</summary>
    [Required]
    public string TimeZone { get; set; } = "Asia/Shanghai";
}

/// <summary>How context is kept in group chats.</summary>
public enum GroupContextScope
{
    /// <summary>One context for the whole group.</summary>
    Shared,

    /// <summary>One context per member of the group.</summary>
    PerMember,
}
