namespace WeSeek.Plugins;

/// <summary>How an intent was recognised, from the cheapest step to the most expensive.</summary>
public enum IntentSource
{
    /// <summary>A configured rule (keywords or a regular expression) matched.</summary>
    Rule,

    /// <summary>The embedding classifier found labelled examples close enough.</summary>
    Classifier,

    /// <summary>The model chose it, answering in grammar-constrained JSON.</summary>
    Model,
}

/// <summary>
/// What the user wants, recognised before plugins run: an intent name from configuration (for example
/// <c>order_status</c>) and the slots filled from the message (<c>order_id = 10023</c>). Plugins that serve an
/// intent look for it on <see cref="PluginContext.Intent"/>; a turn with no intent is plain chat. Immutable.
/// </summary>
/// <param name="Name">The intent's configured name, lower case.</param>
/// <param name="Slots">Values taken from the message, by slot name; empty when the intent has none.</param>
/// <param name="Source">Which recognition step chose it.</param>
/// <param name="Confidence">0–1: 1 for rules, the similarity for the classifier, the model's own figure or 1.</param>
public sealed record TurnIntent(string Name, IReadOnlyDictionary<string, string> Slots, IntentSource Source, double Confidence)
{
    /// <summary>A slot's value, or null when the message did not fill it.</summary>
    public string? Slot(string name) => Slots.TryGetValue(name, out var value) ? value : null;
}
