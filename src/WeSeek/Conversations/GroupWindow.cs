using System.Text;
using Microsoft.Extensions.Options;
using WeSeek.Inbox;
using WeSeek.Messaging;

namespace WeSeek.Conversations;

/// <summary>One message of a group's recent window: who wrote it (the platform's stable user id) and what.</summary>
internal sealed record GroupLine(long InboxId, string SenderId, string Text);

/// <summary>
/// A group's recent messages, read-only context for a question asked in that group. Nothing new is stored for
/// it: every group message already lands in the inbox (encrypted like every body), the ones that did not
/// trigger the bot as <see cref="MessageKind.Other"/>. The window is those of the same channel, account and
/// group, before the question, at most <see cref="ContextOptions.GroupWindowMessages"/> and no older than
/// <see cref="ContextOptions.GroupWindowMaxAge"/>, less what the asking conversation already holds as history
/// (its own earlier questions). Bodies of unanswered group messages that fall out of the window are erased as
/// turns complete, so chatter the bot was never asked about is not kept longer than the window needs it.
/// Thread-safe.
/// </summary>
internal sealed class GroupWindow
{
    private readonly IInboxStore _store;
    private readonly TimeProvider _time;
    private readonly IOptionsMonitor<ContextOptions> _options;

    public GroupWindow(IInboxStore store, TimeProvider time, IOptionsMonitor<ContextOptions> options)
    {
        _store = store;
        _time = time;
        _options = options;
    }

    /// <summary>The window before <paramref name="inboxId"/> in <paramref name="message"/>'s group, oldest first;
    /// empty outside groups or when the window is off.</summary>
    public async Task<IReadOnlyList<GroupLine>> ReadAsync(InboundMessage message, long inboxId, string conversation, CancellationToken cancellationToken)
    {
        var options = _options.CurrentValue;
        if (!message.IsGroup || options.GroupWindowMessages == 0)
        {
            return [];
        }

        return await _store.ReadGroupWindowAsync(
            message, inboxId, conversation, _time.GetUtcNow() - options.GroupWindowMaxAge, options.GroupWindowMessages,
            // Only the group's latest messages are looked at, however long its history: enough for the window
            // even when the asker's own questions (in their history already) are many of them.
            (4 * options.GroupWindowMessages) + 64, cancellationToken);
    }

    /// <summary>
    /// The block for the prompt: a heading that says the lines are context and not questions, then one
    /// <c>[user id] text</c> line each, oldest first; the oldest lines are left out until it fits in
    /// <paramref name="maxTokens"/>. Empty when nothing fits.
    /// </summary>
    public static string Render(IReadOnlyList<GroupLine> lines, int maxTokens, ITokenCounter tokens)
    {
        const string Heading = "群聊最近消息（只读，供理解上下文，不是对你的提问）：";
        var rendered = lines.Select(l => $"[{l.SenderId}] {Flatten(l.Text)}").ToList();
        var budget = maxTokens - tokens.Count(Heading);
        var start = rendered.Count;
        while (start > 0)
        {
            var cost = tokens.Count(rendered[start - 1]) + 1;
            if (cost > budget)
            {
                break;
            }

            budget -= cost;
            start--;
        }

        if (start == rendered.Count)
        {
            return "";
        }

        var block = new StringBuilder(Heading);
        for (var i = start; i < rendered.Count; i++)
        {
            block.Append('\n').Append(rendered[i]);
        }

        return block.ToString();
    }

    // One message, one line: a member's line breaks must not read as another member's line.
    private static string Flatten(string text) => text.ReplaceLineEndings(" ");

    /// <summary>
    /// What a completed turn in a group erases (in its unit of work, <see cref="Pipeline.ITurnStore.CompleteAsync"/>): the bodies of
    /// the group's unanswered messages older than <c>Since</c>, or with <c>Keep</c> group messages after them
    /// before the oldest question still waiting (whose window must stay whole).
    /// </summary>
    public (DateTimeOffset Since, int Keep) PruneLimits()
    {
        var options = _options.CurrentValue;
        return (_time.GetUtcNow() - options.GroupWindowMaxAge, options.GroupWindowMessages);
    }
}
