using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;

namespace WeSeek.TestKit;

/// <summary>
/// A test double for <see cref="IChatClient"/> (in the spirit of M.E.AI's TestChatClient): answers with the
/// chunks a script returns for the prompt, and records every call. Thread-safe.
/// </summary>
public sealed class ScriptedChatClient : IChatClient
{
    private readonly Func<IReadOnlyList<ChatMessage>, IReadOnlyList<string>> _script;
    private readonly List<IReadOnlyList<ChatMessage>> _calls = [];

    /// <summary>Answers every prompt with <paramref name="script"/>'s chunks.</summary>
    public ScriptedChatClient(Func<IReadOnlyList<ChatMessage>, IReadOnlyList<string>> script) => _script = script;

    /// <summary>Answers with the user's words echoed: "&lt;think&gt;…&lt;/think&gt;答：{text}", tags split
    /// across chunks as a real stream splits them.</summary>
    public static ScriptedChatClient Echo() => new(messages =>
    {
        var said = UserText(messages.Last(m => m.Role == ChatRole.User).Text);
        return ["<think>\n想一想", "：用户说了", $"「{said}」</th", "ink>\n\n", "答：", said];
    });

    /// <summary>What the user typed, without the persona folded in front or the time appended behind.</summary>
    public static string UserText(string content)
    {
        var time = content.LastIndexOf("\n\n（当前时间", StringComparison.Ordinal);
        var text = time >= 0 ? content[..time] : content;
        var paragraph = text.LastIndexOf("\n\n", StringComparison.Ordinal);
        return paragraph >= 0 ? text[(paragraph + 2)..] : text;
    }

    /// <summary>End each answer with usage, as servers do: input tokens counted as prompt characters, output
    /// tokens as chunks, none cached. Default false.</summary>
    public bool ReportUsage { get; set; }

    /// <summary>A pause before each chunk after the first, like decoding takes. Default none.</summary>
    public TimeSpan ChunkDelay { get; set; }

    /// <summary>Invoked before each answer; a test can block or throw here.</summary>
    public Func<IReadOnlyList<ChatMessage>, CancellationToken, Task>? OnCall { get; set; }

    /// <summary>The prompts received, in order.</summary>
    public IReadOnlyList<IReadOnlyList<ChatMessage>> Calls
    {
        get
        {
            lock (_calls)
            {
                return [.. _calls];
            }
        }
    }

    public async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var updates = new List<ChatResponseUpdate>();
        await foreach (var update in GetStreamingResponseAsync(messages, options, cancellationToken))
        {
            updates.Add(update);
        }

        return updates.ToChatResponse();
    }

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var prompt = messages.ToList();
        lock (_calls)
        {
            _calls.Add(prompt);
        }

        if (OnCall is { } onCall)
        {
            await onCall(prompt, cancellationToken);
        }

        var chunks = _script(prompt);
        for (var i = 0; i < chunks.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (i > 0 && ChunkDelay > TimeSpan.Zero)
            {
                await Task.Delay(ChunkDelay, cancellationToken);
            }

            yield return new ChatResponseUpdate(ChatRole.Assistant, chunks[i]);
        }

        var last = new ChatResponseUpdate { FinishReason = ChatFinishReason.Stop };
        if (ReportUsage)
        {
            last.Contents.Add(new UsageContent(new UsageDetails
            {
                InputTokenCount = prompt.Sum(m => m.Text.Length),
                OutputTokenCount = chunks.Count,
                CachedInputTokenCount = 0,
            }));
        }

        yield return last;
    }

    public object? GetService(Type serviceType, object? serviceKey = null) => null;

    public void Dispose()
    {
    }
}
