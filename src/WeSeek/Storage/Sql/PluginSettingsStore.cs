using Microsoft.Extensions.Options;
using WeSeek.Plugins;

namespace WeSeek.Storage.Sql;

/// <summary><see cref="IPluginSettingsStore"/> in the table <c>plugin_settings</c>. Thread-safe.</summary>
internal sealed class PluginSettingsStore : IPluginSettingsStore
{
    private readonly StoreDatabase _database;
    private readonly PluginOptions _options;
    private readonly TimeProvider _time;

    public PluginSettingsStore(StoreDatabase database, IOptions<PluginOptions> options, TimeProvider time)
    {
        _database = database;
        _options = options.Value;
        _time = time;
    }

    public async Task<IReadOnlyDictionary<string, bool>> GetAsync(string chat, IEnumerable<IWeSeekPlugin> plugins, CancellationToken cancellationToken)
    {
        var states = new Dictionary<string, bool>(StringComparer.OrdinalIgnoreCase);
        foreach (var plugin in plugins)
        {
            states[plugin.Name] = !_options.OffByDefault.Contains(plugin.Name, StringComparer.OrdinalIgnoreCase);
        }

        await using var connection = await _database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT plugin, enabled FROM plugin_settings WHERE chat = @chat;";
        command.AddParameter("@chat", chat);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var name = reader.GetString(0);
            if (states.ContainsKey(name))
            {
                states[name] = reader.GetInt64(1) != 0;
            }
        }

        return states;
    }

    public async Task SetAsync(string chat, string plugin, bool enabled, CancellationToken cancellationToken)
    {
        await using var writer = await _database.OpenWriterAsync(cancellationToken);
        await using var command = writer.Connection.CreateCommand();
        command.CommandText = """
            INSERT INTO plugin_settings (chat, plugin, enabled, updated_at) VALUES (@chat, @plugin, @enabled, @now)
            ON CONFLICT (chat, plugin) DO UPDATE SET enabled = excluded.enabled, updated_at = excluded.updated_at;
            """;
        command.AddParameter("@chat", chat);
        command.AddParameter("@plugin", plugin.ToLowerInvariant());
        command.AddParameter("@enabled", enabled ? 1 : 0);
        command.AddParameter("@now", _time.GetUtcNow().ToUnixTimeMilliseconds());
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
