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

    /// <summary>
    /// When set, the page asks for this password before it shows anything, and the API answers 401 without the
    /// session cookie it gives. A secret: set it through <c>WESEEK__WebChat__Password</c> or a secret store, not
    /// appsettings.json. Default empty: no password (the host binds 127.0.0.1 unless told otherwise).
    /// </summary>
    public string? Password { get; set; }

    /// <summary>How long a login lasts before the password is asked again. Default 7 days. Changing the
    /// password ends every session.</summary>
    [Range(typeof(TimeSpan), "00:01:00", "365.00:00:00")]
    public TimeSpan SessionLifetime { get; set; } = TimeSpan.FromDays(7);

    /// <summary>Login attempts one address may make per minute before it must wait. Default 10.</summary>
    [Range(1, 1000)]
    public int LoginAttemptsPerMinute { get; set; } = 10;
}
