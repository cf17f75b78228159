using System.ComponentModel.DataAnnotations;

namespace WeSeek.Plugins;

/// <summary>How plugins run. Section <c>Plugins</c>.</summary>
public sealed class PluginOptions
{
    /// <summary>
    /// How long one plugin may take for one message before the turn goes on without it. Default 5 s: a local
    /// index answers in milliseconds, and an HTTP plugin slower than this would delay every answer noticeably.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:01:00")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Most passages put into one prompt, over all plugins, in plugin order. Default 5: about 1,500 characters,
    /// which leaves room for history in a 4k context.
    /// </summary>
    [Range(0, 50)]
    public int MaxPassages { get; set; } = 5;

    /// <summary>Plugins off in every chat until a chat turns them on (<c>/plugins on &lt;name&gt;</c>). Default none.</summary>
    public IList<string> OffByDefault { get; } = [];
}
