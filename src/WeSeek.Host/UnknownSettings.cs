using System.Collections;
using Microsoft.Extensions.Options;
using WeSeek.Configuration;

namespace WeSeek.Host;

/// <summary>
/// Keys under a WeSeek section (<c>Storage</c>, <c>Outbox</c>, <c>OfficialAccount</c>, …) that no options class
/// binds: a misspelt key, or a setting this build does not have (<c>Storage:Redis</c>: WeSeek uses none), would
/// otherwise pass silently. Each is logged at start-up with the nearest known key; with
/// <c>--strict-config</c> (<c>StrictConfig=true</c>, <c>WESEEK__StrictConfig</c>) start-up stops instead.
/// Keys outside WeSeek's sections (<c>Logging</c>, <c>Kestrel</c>, <c>urls</c>, other programs' variables)
/// are not WeSeek's to judge.
/// </summary>
internal sealed partial class UnknownSettings(IConfiguration configuration, IEnumerable<BoundSection> bound, ILogger<UnknownSettings> logger) : IHostedService
{
    /// <summary>The configuration key <c>--strict-config</c> sets.</summary>
    public const string StrictKey = "StrictConfig";

    /// <summary>Every section WeSeek knows, registered or not in this run (a channel's section is bound only
    /// when the channel is configured, yet a typo there is still a typo). Sections added with
    /// <c>AddSection</c> are known without being listed here.</summary>
    internal static readonly BoundSection[] Catalog =
    [
        new("Storage", typeof(WeSeek.Storage.StorageOptions)),
        new("Security:Encryption", typeof(WeSeek.Security.EncryptionOptions)),
        new("Model", typeof(WeSeek.Inference.ModelOptions)),
        new("Model:Remote", typeof(WeSeek.Inference.Remote.RemoteEngineOptions)),
        new("Model:Llama", typeof(WeSeek.Inference.Llama.Engine.LlamaEngineOptions)),
        new("Models", typeof(WeSeek.Inference.Llama.Models.ModelsOptions)),
        new("Composer", typeof(WeSeek.Replies.ComposerOptions)),
        new("Context", typeof(WeSeek.Conversations.ContextOptions)),
        new("Dispatcher", typeof(WeSeek.Pipeline.DispatcherOptions)),
        new("Quota", typeof(WeSeek.Quotas.QuotaOptions)),
        new("Outbox", typeof(WeSeek.Outbox.OutboxOptions)),
        new("Intents", typeof(WeSeek.Intents.IntentOptions)),
        new("Feedback", typeof(WeSeek.Feedback.FeedbackOptions)),
        new("Knowledge", typeof(WeSeek.Knowledge.KnowledgeOptions)),
        new("Media", typeof(WeSeek.Media.MediaOptions)),
        new("Vision", typeof(WeSeek.Media.VisionOptions)),
        new("Moderation", typeof(WeSeek.Moderation.ModerationOptions)),
        new("Plugins", typeof(WeSeek.Plugins.PluginOptions)),
        new("Plugins:Sql", typeof(WeSeek.Plugins.Sql.SqlPluginOptions)),
        new("Plugins:Http", typeof(WeSeek.Plugins.Http.HttpPluginOptions)),
        new("Access", typeof(Access.AccessOptions)),
        new("Admin", typeof(Admin.AdminOptions)),
        new("WebChat", typeof(WeSeek.Channels.WebChat.WebChatOptions)),
        new("OfficialAccount", typeof(WeSeek.Channels.OfficialAccount.OfficialAccountOptions)),
        new("WeCom", typeof(WeSeek.Channels.WeCom.WeComOptions)),
        new("ILink", typeof(WeSeek.Channels.ILink.ILinkOptions)),
        new("OneBot", typeof(WeSeek.Channels.OneBot.OneBotOptions)),
    ];

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var unknown = Find(configuration, [.. Catalog, .. bound]);
        if (unknown.Count > 0 && configuration.GetValue<bool>(StrictKey))
        {
            throw new OptionsValidationException(StrictKey, typeof(UnknownSettings),
                [.. unknown.Select(u => $"{u.Key} (environment variable {HostComposition.EnvironmentVariable(u.Key)}): no WeSeek option has this key (nearest: {u.Nearest}); --strict-config refuses unknown settings")]);
        }

        foreach (var (key, nearest) in unknown)
        {
            Log.Unknown(logger, key, HostComposition.EnvironmentVariable(key), nearest);
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>True when an option of this build reads <paramref name="key"/> (<c>Outbox:DailyCap</c>,
    /// <c>OfficialAccount:Accounts:demo:Token</c>) or it is <see cref="StrictKey"/>: what a deployment may set.
    /// <paramref name="bound"/> are the sections a host registered (as start-up checks them).</summary>
    internal static bool IsWeSeekSetting(string key, IEnumerable<BoundSection> bound) =>
        string.Equals(key, StrictKey, StringComparison.OrdinalIgnoreCase) || IsKnown(key, [.. Catalog, .. bound]);

    /// <summary>The known key nearest to <paramref name="key"/>, for a message.</summary>
    internal static string NearestKnown(string key, IEnumerable<BoundSection> bound) =>
        Catalog.Concat(bound).SelectMany(s => KnownKeys(s.OptionsType, s.Section, depth: 0)).MinBy(k => Distance(k.ToUpperInvariant(), key.ToUpperInvariant())) ?? "";

    /// <summary>The configured keys under WeSeek's sections that no bound class reads, each with the nearest
    /// known key (by edit distance, ignoring case).</summary>
    internal static List<(string Key, string Nearest)> Find(IConfiguration configuration, IReadOnlyCollection<BoundSection> sections)
    {
        var roots = sections.Select(s => s.Section.Split(':')[0]).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var known = sections.SelectMany(s => KnownKeys(s.OptionsType, s.Section, depth: 0)).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        var unknown = new List<(string, string)>();
        foreach (var (key, value) in configuration.AsEnumerable().OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            if (value is null || !roots.Contains(key.Split(':')[0]) || IsKnown(key, sections))
            {
                continue;
            }

            unknown.Add((key, known.MinBy(k => Distance(k.ToUpperInvariant(), key.ToUpperInvariant())) ?? ""));
        }

        return unknown;
    }

    private static bool IsKnown(string key, IEnumerable<BoundSection> sections) => Target(key, sections) is not null;

    /// <summary>The section of this build that reads <paramref name="key"/> as one value (<c>Outbox:DailyCap</c>),
    /// with the type the binder converts it to; null when no option reads it, or reads it as a whole object.</summary>
    internal static (BoundSection Section, Type ValueType)? ValueTarget(string key)
    {
        var target = Target(key, Catalog);
        return target is { } found && IsLeaf(found.Type) ? found : null;
    }

    private static (BoundSection Section, Type Type)? Target(string key, IEnumerable<BoundSection> sections)
    {
        var segments = key.Split(':');
        foreach (var section in sections)
        {
            var prefix = section.Section.Split(':');
            if (segments.Length >= prefix.Length
                && prefix.Select((p, i) => string.Equals(p, segments[i], StringComparison.OrdinalIgnoreCase)).All(x => x)
                && Resolve(section.OptionsType, segments.AsSpan(prefix.Length), depth: 0) is { } type)
            {
                return (section, type);
            }
        }

        return null;
    }

    /// <summary>The type the binder would put at <paramref name="path"/> inside <paramref name="type"/>; null when
    /// nothing would go there.</summary>
    private static Type? Resolve(Type type, ReadOnlySpan<string> path, int depth)
    {
        if (path.IsEmpty)
        {
            return type;
        }

        if (IsLeaf(type) || depth > 8)
        {
            return null;
        }

        if (ElementType(type) is { } element)
        {
            // A dictionary's keys are names, a list's are indexes; either way one segment is the entry.
            return Resolve(element, path[1..], depth + 1);
        }

        var name = path[0];
        var property = type.GetProperties().FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase) && p.GetIndexParameters().Length == 0);
        return property is null ? null : Resolve(property.PropertyType, path[1..], depth + 1);
    }

    private static IEnumerable<string> KnownKeys(Type type, string prefix, int depth)
    {
        if (IsLeaf(type) || depth > 8)
        {
            yield return prefix;
            yield break;
        }

        if (ElementType(type) is { } element)
        {
            foreach (var key in KnownKeys(element, prefix + ":{name}", depth + 1))
            {
                yield return key;
            }

            yield break;
        }

        foreach (var property in type.GetProperties().Where(p => p.GetIndexParameters().Length == 0))
        {
            foreach (var key in KnownKeys(property.PropertyType, prefix + ":" + property.Name, depth + 1))
            {
                yield return key;
            }
        }
    }

    private static bool IsLeaf(Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        return type.IsPrimitive || type.IsEnum || type == typeof(string) || type == typeof(decimal) || type == typeof(TimeSpan)
            || type == typeof(DateTimeOffset) || type == typeof(DateTime) || type == typeof(Guid) || type == typeof(Uri) || type == typeof(object);
    }

    private static Type? ElementType(Type type)
    {
        if (type.IsArray)
        {
            return type.GetElementType();
        }

        if (!typeof(IEnumerable).IsAssignableFrom(type))
        {
            return null;
        }

        var dictionary = type.GetInterfaces().Append(type).FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IDictionary<,>));
        if (dictionary is not null)
        {
            return dictionary.GetGenericArguments()[1];
        }

        var enumerable = type.GetInterfaces().Append(type).FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEnumerable<>));
        return enumerable?.GetGenericArguments()[0];
    }

    private static int Distance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
        {
            previous[j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            }

            (previous, current) = (current, previous);
        }

        return previous[b.Length];
    }

    private static partial class Log
    {
        [LoggerMessage(WeSeek.Logging.WeSeekEventId.UnknownSetting, LogLevel.Warning, "Unknown setting {Key} (environment variable {Variable}): no WeSeek option reads it; the nearest known key is {Nearest}")]
        public static partial void Unknown(ILogger logger, string key, string variable, string nearest);
    }
}
