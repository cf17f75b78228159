namespace WeSeek.Plugins;

/// <summary>The plugins the host registered, in registration order, by name. Names are unique (case-insensitive).</summary>
internal sealed class PluginCatalog
{
    public PluginCatalog(IEnumerable<IWeSeekPlugin> plugins)
    {
        Plugins = [.. plugins];
        var duplicate = Plugins.GroupBy(p => p.Name, StringComparer.OrdinalIgnoreCase).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new InvalidOperationException($"Two plugins are registered with the name '{duplicate.Key}'; plugin names must be unique.");
        }
    }

    public IReadOnlyList<IWeSeekPlugin> Plugins { get; }

    public IWeSeekPlugin? Find(string name) => Plugins.FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase));
}
