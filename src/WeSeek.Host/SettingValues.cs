using Microsoft.Extensions.Options;

namespace WeSeek.Host;

/// <summary>
/// Values under a WeSeek section that the option reading them cannot hold (<c>Outbox:DailyCap=abc</c>,
/// <c>ILink:Enabled=yes</c>), found when the configuration is assembled, before anything binds it, and refused with
/// the key, its environment variable and what it must be. Each value is converted alone, by the binder itself, so
/// a value is refused exactly when binding it would fail, and the key is known without reading the binder's
/// message. Every verb checks the whole configuration: a bad value is as wrong for <c>kb</c> as for <c>serve</c>.
/// </summary>
internal static class SettingValues
{
    /// <summary>Throws an <see cref="OptionsValidationException"/> naming every value no option can hold.</summary>
    public static void Check(IConfiguration configuration)
    {
        var failures = new List<string>();
        foreach (var (key, value) in configuration.AsEnumerable().OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            if (value is null)
            {
                continue;
            }

            if (string.Equals(key, UnknownSettings.StrictKey, StringComparison.OrdinalIgnoreCase))
            {
                if (!Binds(key, value, alone => alone.GetValue<bool>(UnknownSettings.StrictKey)))
                {
                    failures.Add(Failure(key, value, typeof(bool)));
                }
            }
            else if (UnknownSettings.ValueTarget(key) is { } target
                && !Binds(key, value, alone => alone.GetSection(target.Section.Section).Get(target.Section.OptionsType)))
            {
                failures.Add(Failure(key, value, target.ValueType));
            }
        }

        if (failures.Count > 0)
        {
            throw new OptionsValidationException("Configuration", typeof(SettingValues), failures);
        }
    }

    /// <summary>True when <paramref name="read"/> binds a configuration holding only this value.</summary>
    private static bool Binds(string key, string value, Func<IConfiguration, object?> read)
    {
        var alone = new ConfigurationBuilder().AddInMemoryCollection([KeyValuePair.Create<string, string?>(key, value)]).Build();
        try
        {
            read(alone);
            return true;
        }
        catch (InvalidOperationException)
        {
            // The binder's only exception for a value its type converter refuses; this value is the only one there.
            return false;
        }
    }

    private static string Failure(string key, string value, Type type) =>
        $"{key} (environment variable {HostComposition.EnvironmentVariable(key)}): '{value}' is not a valid {Describe(type)}";

    private static string Describe(Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        return type == typeof(int) || type == typeof(long) ? "whole number"
            : type == typeof(double) || type == typeof(float) || type == typeof(decimal) ? "number"
            : type == typeof(bool) ? "true or false"
            : type == typeof(TimeSpan) ? "duration (hh:mm:ss)"
            : type == typeof(Uri) ? "URL"
            : type.FullName ?? type.Name;
    }
}
