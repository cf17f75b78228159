namespace WeSeek.Host.Admin;

/// <summary>One configuration value in effect.</summary>
/// <param name="Key">The key, <c>Section:Name</c>.</param>
/// <param name="Value">The value, or a mask for a secret.</param>
/// <param name="Source">Where it came from: <c>appsettings.json</c>, an environment variable, the command line.</param>
/// <param name="Secret">Whether the value was masked.</param>
internal sealed record EffectiveSetting(string Key, string Value, string Source, bool Secret);

/// <summary>
/// The configuration WeSeek runs with, as the console's 设置 Settings page shows it: every key under WeSeek's own
/// sections, the value in effect, and the source that set it (the last provider that has the key wins, as the
/// configuration system itself decides). Secrets (tokens, passwords, keys) are masked: the page never carries them.
/// </summary>
internal static class EffectiveSettings
{
    /// <summary>The sections WeSeek's options bind (the rest of the configuration is ASP.NET Core's or the OS's).</summary>
    private static readonly HashSet<string> Sections = new(StringComparer.OrdinalIgnoreCase)
    {
        "Access", "Admin", "Commands", "Composer", "Context", "Dispatcher", "ILink", "Intents", "Knowledge", "Media", "Model",
        "Models", "Moderation", "OfficialAccount", "OneBot", "Outbox", "Plugins", "Quota", "Security", "Storage", "Vision",
        "WeCom", "WebChat", "StrictConfig", "urls",
    };

    private static readonly string[] SecretWords = ["password", "secret", "token", "apikey", "aeskey", "privatekey"];

    public static IReadOnlyList<EffectiveSetting> Read(IConfiguration configuration)
    {
        if (configuration is not IConfigurationRoot root)
        {
            return [];
        }

        var settings = new List<EffectiveSetting>();
        foreach (var (key, value) in root.AsEnumerable().Where(p => p.Value is not null).OrderBy(p => p.Key, StringComparer.OrdinalIgnoreCase))
        {
            var section = key.Split(':', 2)[0];
            if (!Sections.Contains(section))
            {
                continue;
            }

            var secret = IsSecret(key);
            settings.Add(new EffectiveSetting(key, secret ? Mask(value!) : value!, SourceOf(root, key), secret));
        }

        return settings;
    }

    /// <summary>True for keys whose last segment names a secret (<c>Token</c>, <c>AppSecret</c>, <c>Password</c>,
    /// <c>ApiKey</c>, <c>EncodingAesKey</c>, a key file's contents).</summary>
    internal static bool IsSecret(string key)
    {
        var name = key[(key.LastIndexOf(':') + 1)..];
        // Numbered entries (Keys:0) are named by their parent.
        if (int.TryParse(name, out _) && key.LastIndexOf(':') is > 0 and var colon)
        {
            name = key[..colon][(key[..colon].LastIndexOf(':') + 1)..];
        }

        name = name.ToLowerInvariant();
        return name is "key" or "keys" || SecretWords.Any(word => name.EndsWith(word, StringComparison.Ordinal));
    }

    private static string Mask(string value) => value.Length == 0 ? "" : "•••••• (set)";

    private static string SourceOf(IConfigurationRoot root, string key)
    {
        foreach (var provider in root.Providers.Reverse())
        {
            if (provider.TryGet(key, out _))
            {
                return provider switch
                {
                    Microsoft.Extensions.Configuration.Json.JsonConfigurationProvider json => Path.GetFileName(json.Source.Path ?? "appsettings.json"),
                    Microsoft.Extensions.Configuration.EnvironmentVariables.EnvironmentVariablesConfigurationProvider =>
                        "environment variable",
                    Microsoft.Extensions.Configuration.CommandLine.CommandLineConfigurationProvider => "command line (--" + key + ")",
                    _ => provider.GetType().Name.Replace("ConfigurationProvider", "", StringComparison.Ordinal),
                };
            }
        }

        return "default";
    }
}
