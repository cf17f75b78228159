using System.Text;
using LLama;
using LLama.Native;
using Microsoft.Extensions.AI;

namespace WeSeek.Inference.Llama.Engine;

/// <summary>
/// Renders a chat into prompt tokens with the model's own template (llama.cpp's
/// <c>llama_chat_apply_template</c>), plus what DeepSeek-R1's Jinja does that llama.cpp's built-in
/// <c>deepseek3</c> format does not: the BOS token, earlier assistant turns cut to the text after their last
/// <c>&lt;/think&gt;</c>, <c>&lt;think&gt;\n</c> opened after the final <c>&lt;｜Assistant｜&gt;</c>, and the system
/// prompt followed directly by the first <c>&lt;｜User｜&gt;</c> (the built-in format adds a blank line there, two
/// tokens the model never saw in training and llama-server's Jinja rendering does not send).
/// </summary>
internal sealed class R1PromptBuilder
{
    private const string AssistantMarker = "<｜Assistant｜>";

    /// <summary>What opens a user's turn; everything before the first one is the system prompt.</summary>
    public const string UserMarker = "<｜User｜>";

    /// <summary>What llama.cpp's built-in <c>deepseek3</c> format writes after each system message.</summary>
    private const string SystemSeparator = "\n\n";
    private readonly LLamaWeights _weights;

    public R1PromptBuilder(LLamaWeights weights)
    {
        _weights = weights;
        var template = weights.Metadata.GetValueOrDefault("tokenizer.chat_template") ?? "";
        IsR1 = template.Contains(AssistantMarker, StringComparison.Ordinal) && template.Contains("<｜User｜>", StringComparison.Ordinal);
    }

    /// <summary>True when the model's template is DeepSeek-R1's, so the R1 rules apply.</summary>
    public bool IsR1 { get; }

    /// <summary>The prompt text, as the model will see it after BOS.</summary>
    public string Render(IEnumerable<ChatMessage> messages) => Render(messages, addAssistant: true);

    /// <summary>The chat as history, without opening the next assistant turn: what every later prompt of this
    /// conversation starts with (the template only appends).</summary>
    public string RenderHistory(IEnumerable<ChatMessage> messages) => Render(messages, addAssistant: false);

    private string Render(IEnumerable<ChatMessage> messages, bool addAssistant)
    {
        var template = new LLamaTemplate(_weights) { AddAssistant = addAssistant };
        var leadingSystem = 0; // Characters the built-in format writes for the system messages at the start.
        var leading = true;
        foreach (var message in messages)
        {
            leading &= message.Role == ChatRole.System;
            leadingSystem += leading ? message.Text.Length + SystemSeparator.Length : 0;
            var content = message.Text;
            if (message.Role == ChatRole.Assistant && IsR1)
            {
                // History never carries reasoning (the R1 template cuts it; llama.cpp's format does not).
                var end = content.LastIndexOf("</think>", StringComparison.Ordinal);
                content = end >= 0 ? content[(end + "</think>".Length)..].TrimStart() : content;
            }

            template.Add(message.Role.Value, content);
        }

        var text = Encoding.UTF8.GetString(template.Apply());
        if (IsR1 && leadingSystem > 0 && text.AsSpan(leadingSystem - SystemSeparator.Length).StartsWith(SystemSeparator + UserMarker, StringComparison.Ordinal))
        {
            // R1's Jinja joins the system messages with a blank line and writes the first user turn right after them.
            text = text.Remove(leadingSystem - SystemSeparator.Length, SystemSeparator.Length);
        }

        if (addAssistant && IsR1 && text.EndsWith(AssistantMarker, StringComparison.Ordinal))
        {
            text += "<think>\n";
        }

        return text;
    }

    /// <summary>The prompt tokens: BOS, then the rendered text with special tokens parsed.</summary>
    public static LLamaToken[] Tokenize(LLamaContext context, string rendered) =>
        context.Tokenize(rendered, addBos: true, special: true);
}
