using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;

namespace WeSeek.Inference.Reasoning;

/// <summary>
/// Turns DeepSeek-R1's <c>&lt;think&gt;…&lt;/think&gt;</c> into <see cref="TextReasoningContent"/>, apart from
/// the answer's <see cref="TextContent"/>, in buffered and streamed responses alike (the rules are
/// <see cref="ThinkTagParser"/>'s). An output that ends inside reasoning is reported with
/// <see cref="ChatFinishReason.Length"/> and no answer, so the reasoning is never sent as one. When the inner
/// client already returns reasoning content (a server with a reasoning parser), all its text is answer.
/// </summary>
public sealed class ReasoningSplitChatClient : DelegatingChatClient
{
    private readonly ThinkStart _start;

    public ReasoningSplitChatClient(IChatClient innerClient, ThinkStart start)
        : base(innerClient) => _start = start;

    public override async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var response = await base.GetResponseAsync(messages, options, cancellationToken);
        var parser = new ThinkTagParser(_start);
        ChatMessage? last = null;
        foreach (var message in response.Messages.Where(m => m.Role == ChatRole.Assistant))
        {
            message.Contents = Split(parser, message.Contents);
            last = message;
        }

        if (last is not null)
        {
            var tail = new List<(bool Reasoning, string Text)>();
            parser.Complete(tail);
            foreach (var content in ToContents(tail))
            {
                last.Contents.Add(content);
            }

            last.Contents = Merge(last.Contents);
        }

        if (parser.CutOff)
        {
            response.FinishReason = ChatFinishReason.Length;
        }

        return response;
    }

    public override async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var parser = new ThinkTagParser(_start);
        ChatResponseUpdate? template = null;
        ChatFinishReason? finish = null;
        await foreach (var update in base.GetStreamingResponseAsync(messages, options, cancellationToken))
        {
            template = update;
            finish = update.FinishReason ?? finish;
            var contents = Split(parser, update.Contents);
            if (contents.Count == 0 && update.Contents.Count > 0)
            {
                continue; // All held back by the parser. An update that had no contents (the engine's first-token signal) goes on.
            }

            // The finish reason is held back for the last update: only the end of the stream tells
            // whether the output was cut off inside its reasoning.
            yield return Copy(update, contents, finishReason: null);
        }

        var tail = new List<(bool Reasoning, string Text)>();
        parser.Complete(tail);
        var final = ToContents(tail);
        if (parser.CutOff)
        {
            finish = ChatFinishReason.Length;
        }

        if (final.Count > 0 || finish is not null)
        {
            yield return Copy(template ?? new ChatResponseUpdate(), final, finish);
        }
    }

    private static List<AIContent> Split(ThinkTagParser parser, IList<AIContent> contents)
    {
        var result = new List<AIContent>(contents.Count);
        var pieces = new List<(bool Reasoning, string Text)>();
        foreach (var content in contents)
        {
            switch (content)
            {
                case TextReasoningContent:
                    if (!parser.PassingThrough)
                    {
                        parser.PassThrough();
                    }

                    result.Add(content);
                    break;
                case TextContent text:
                    pieces.Clear();
                    parser.Feed(text.Text, pieces);
                    result.AddRange(ToContents(pieces));
                    break;
                default:
                    result.Add(content);
                    break;
            }
        }

        return result;
    }

    private static List<AIContent> ToContents(List<(bool Reasoning, string Text)> pieces) =>
        pieces.Select(p => p.Reasoning ? (AIContent)new TextReasoningContent(p.Text) : new TextContent(p.Text)).ToList();

    /// <summary>Joins adjacent text pieces of the same kind, as a buffered response carries them.</summary>
    private static List<AIContent> Merge(IList<AIContent> contents)
    {
        var merged = new List<AIContent>(contents.Count);
        foreach (var content in contents)
        {
            switch ((merged.Count > 0 ? merged[^1] : null, content))
            {
                case (TextReasoningContent previous, TextReasoningContent next):
                    merged[^1] = new TextReasoningContent(previous.Text + next.Text);
                    break;
                case (TextContent previous, TextContent next):
                    merged[^1] = new TextContent(previous.Text + next.Text);
                    break;
                default:
                    merged.Add(content);
                    break;
            }
        }

        return merged;
    }

    private static ChatResponseUpdate Copy(ChatResponseUpdate update, IList<AIContent> contents, ChatFinishReason? finishReason) => new()
    {
        AdditionalProperties = update.AdditionalProperties,
        AuthorName = update.AuthorName,
        Contents = contents,
        ConversationId = update.ConversationId,
        CreatedAt = update.CreatedAt,
        FinishReason = finishReason,
        MessageId = update.MessageId,
        ModelId = update.ModelId,
        RawRepresentation = update.RawRepresentation,
        ResponseId = update.ResponseId,
        Role = update.Role ?? ChatRole.Assistant,
    };
}
