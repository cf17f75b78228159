using System.Diagnostics.CodeAnalysis;

namespace WeSeek.Pipeline;

/// <summary>Per-turn state keyed by type, as ASP.NET Core's feature collection: no string keys.</summary>
public sealed class TurnFeatures
{
    private readonly Dictionary<Type, object> _features = [];

    /// <summary>The feature of type <typeparamref name="T"/>, or null.</summary>
    public T? Get<T>() where T : class => _features.TryGetValue(typeof(T), out var value) ? (T)value : null;

    /// <summary>Sets (or replaces) the feature of type <typeparamref name="T"/>.</summary>
    public void Set<T>(T feature) where T : class => _features[typeof(T)] = feature ?? throw new ArgumentNullException(nameof(feature));

    /// <summary>The feature of type <typeparamref name="T"/>; false when absent.</summary>
    public bool TryGet<T>([NotNullWhen(true)] out T? feature) where T : class
    {
        feature = Get<T>();
        return feature is not null;
    }
}
