using System.Text;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WeSeek.Conversations;
using WeSeek.Hosting;
using WeSeek.Inference.Pipeline;
using WeSeek.Logging;
using WeSeek.Moderation;
using WeSeek.Operations;
using WeSeek.Pipeline;
using WeSeek.Plugins;
using WeSeek.Streaming;

namespace WeSeek.Inference;

/// <summary>
/// Calls the model path (<see cref="ModelPipeline"/>: tools, telemetry, audit and the reasoning split live there)
/// with the prompt the context step prepared, streaming reasoning and answer deltas to the reply stream as they
/// come, and records the answer (and, for display only, the reasoning) on the conversation feature. A cut-off
/// generation (no end of reasoning) gets the fallback answer instead.
/// </summary>
internal sealed partial class ModelMiddleware : ITurnMiddleware
{
    private readonly IChatClient _client;
    private readonly ChannelRegistry _channels;
    private readonly IReplyStreamHub _stream;
    private readonly ITokenCounter _tokens;
    private readonly ModelOptions _options;
    private readonly ILogger<ModelMiddleware> _logger;
    private readonly bool _live;
    private readonly TimeProvider _time;
    private readonly ReplyInstruments _replies;

    public ModelMiddleware([FromKeyedServices(ModelPipeline.Key)] IChatClient client, IReplyStreamHub stream, ChannelRegistry channels, ITokenCounter tokens, IOptionsSnapshot<ModelOptions> options, IOptions<ModerationOptions> moderation, ReplyInstruments replies, TimeProvider time, ILogger<ModelMiddleware> logger)
    {
        _time = time;
        _replies = replies;
        // Tokens are shown live only when moderation cannot rewrite the answer: what a browser has already
        // shown cannot be masked afterwards. The finished, checked answer is delivered either way.
        _live = !moderation.Value.Rewrites;
        _channels = channels;
        _client = client;
        _stream = stream;
        _tokens = tokens;
        _options = options.Value;
        _logger = logger;
    }

    private void PublishLive(ReplyStreamEvent update)
    {
        if (_live)
        {
            _stream.Publish(update);
        }
    }

    public async Task InvokeAsync(Turn turn, TurnDelegate next)
    {
        ArgumentNullException.ThrowIfNull(turn);
        ArgumentNullException.ThrowIfNull(next);
        var conversation = turn.Features.Get<ConversationFeature>()
            ?? throw new InvalidOperationException("The model step needs the context step before it (ConversationFeature is missing).");

        var options = new ChatOptions
        {
            Temperature = _options.Temperature,
            TopP = _options.TopP,
            MaxOutputTokens = _options.MaxOutputTokens,
            Seed = _options.Seed,
            ConversationId = conversation.Key,
            AdditionalProperties = new() { [ModelPipeline.InboxIdProperty] = turn.InboxId },
        };

        if (_options.ToolCalling && turn.Features.Get<PluginToolsFeature>() is { Tools.Count: > 0 } tools)
        {
            // The model may call the plugins' tools; the path's function invocation runs them and asks again.
            options.Tools = [.. tools.Tools];
        }

        var answer = new StringBuilder();
        var reasoning = new StringBuilder();
        ChatFinishReason? finish = null;
        var message = turn.Message;
        var firstToken = true;
        await foreach (var update in _client.GetStreamingResponseAsync(conversation.Messages, options, turn.Aborted))
        {
            finish = update.FinishReason ?? finish;
            if (firstToken && update.Contents.Any(c => c is TextContent or TextReasoningContent))
            {
                firstToken = false;
                if (_live && _channels.Find(message.Channel)?.Capabilities.Streaming == true)
                {
                    // A streaming page shows its first token where WeChat would show "对方正在输入".
                    _replies.RecordTyping(_time.GetUtcNow() - message.SentAt, message.Channel.Value);
                }
            }

            foreach (var content in update.Contents)
            {
                switch (content)
                {
                    case TextReasoningContent { Text.Length: > 0 } thought:
                        reasoning.Append(thought.Text);
                        if (conversation.ShowThinking)
                        {
                            // Reasoning reaches a user only after /think on, on the live stream as in the reply.
                            PublishLive(new ReplyStreamEvent(message.Channel, message.ChatId, turn.InboxId, ReplyStreamEventKind.Reasoning, thought.Text));
                        }
                        break;
                    case TextContent { Text.Length: > 0 } delta:
                        answer.Append(delta.Text);
                        PublishLive(new ReplyStreamEvent(message.Channel, message.ChatId, turn.InboxId, ReplyStreamEventKind.Answer, delta.Text));
                        break;
                }
            }
        }

        if (answer.Length > 0 && turn.Features.Get<PluginFeature>() is { Citations.Count: > 0 } plugins)
        {
            // Streaming clients see the 来源 lines the composer appends to the stored reply.
            PublishLive(new ReplyStreamEvent(message.Channel, message.ChatId, turn.InboxId, ReplyStreamEventKind.Answer, "\n\n" + string.Join('\n', plugins.Citations)));
        }

        _stream.Publish(new ReplyStreamEvent(message.Channel, message.ChatId, turn.InboxId, ReplyStreamEventKind.Completed, ""));
        conversation.Reasoning = reasoning.Length > 0 ? reasoning.ToString().Trim() : null;
        var text = answer.ToString().Trim();
        if (text.Length == 0 || finish == ChatFinishReason.Length && reasoning.Length > 0 && answer.Length == 0)
        {
            // No answer at all: the model stopped while reasoning (or said nothing). Never send reasoning as
            // the answer; send the fallback, and keep this turn out of history.
            Log.CutOff(_logger, turn.InboxId, reasoning.Length);
            conversation.CutOff = true;
            conversation.Answer = _options.CutOffReply;
        }
        else
        {
            conversation.Answer = text;
            conversation.AnswerTokens = _tokens.Count(text);
        }

        await next(turn);
    }

    private static partial class Log
    {
        [LoggerMessage(WeSeekEventId.ModelCutOff, LogLevel.Warning, "The model gave no answer for message {InboxId} ({ReasoningLength} characters of reasoning); sending the fallback")]
        public static partial void CutOff(ILogger logger, long inboxId, int reasoningLength);
    }
}
