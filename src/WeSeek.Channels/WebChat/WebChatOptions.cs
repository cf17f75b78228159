using System.ComponentModel.DataAnnotations;

namespace WeSeek.Channels.WebChat;

/// <summary>The built-in web chat page. Section <c>WebChat</c>.</summary>
public sealed class WebChatOptions
{
    /// <summary>Serve the page at <c>/</c> and its API under <c>/api/webchat</c>. Default true: the way to try
    /// WeSeek before connecting WeChat.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Longest message a user may send, in characters. Default 4,000: about what WeChat's input box
    /// allows in one message, generous for a question.</summary>
    [Range(1, 16_000)]
    public int MaxMessageLength { get; set; } = 4000;

    /// <summary>Most messages the page loads for one chat. Default 200.</summary>
    [Range(1, 10_000)]
    public int HistoryLimit { get; set; } = 200;
}
