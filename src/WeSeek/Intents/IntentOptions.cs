using System.ComponentModel.DataAnnotations;
using System.Text.RegularExpressions;

namespace WeSeek.Intents;

/// <summary>
/// Intent recognition (意图识别): what a message asks for, before plugins and the model see it. Section
/// <c>Intents</c>. Rules first (keywords, regular expressions), then the embedding classifier over labelled
/// examples, then, for a message the classifier finds ambiguous, the model answering in grammar-constrained
/// JSON. Default: no intents, every message is plain chat.
/// </summary>
public sealed partial class IntentOptions : IValidatableObject
{
    /// <summary>The intents by name (lower case, letters, digits and <c>_</c>; <c>chat</c> is reserved for plain chat).</summary>
    public IDictionary<string, IntentDefinition> Items { get; } = new Dictionary<string, IntentDefinition>(StringComparer.Ordinal);

    /// <summary>Similarity to an intent's closest example above which the classifier decides alone. Default 0.6.</summary>
    [Range(0.0, 1.0)]
    public double Threshold { get; set; } = 0.6;

    /// <summary>How far the best intent must lead the second for the classifier to decide alone. Default 0.05.</summary>
    [Range(0.0, 1.0)]
    public double Margin { get; set; } = 0.05;

    /// <summary>Below this similarity the message is plain chat without asking the model. Default 0.3.</summary>
    [Range(0.0, 1.0)]
    public double Floor { get; set; } = 0.3;

    /// <summary>Ask the model about ambiguous messages (between <see cref="Floor"/> and a clear decision). Default true.</summary>
    public bool AskModel { get; set; } = true;

    /// <summary>How long the model may take to classify before the message goes on as plain chat. Default 20 s.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:05:00")]
    public TimeSpan ModelTimeout { get; set; } = TimeSpan.FromSeconds(20);

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var (name, intent) in Items)
        {
            if (!NamePattern().IsMatch(name) || name == IntentRecognizer.Chat)
            {
                yield return new ValidationResult("must be lower case letters, digits and _ (and not \"chat\")", [$"{nameof(Items)}:{name}"]);
            }

            if (intent.Keywords.Count == 0 && intent.Patterns.Count == 0 && intent.Examples.Count == 0)
            {
                yield return new ValidationResult("needs Keywords, Patterns or Examples to be recognised by", [$"{nameof(Items)}:{name}"]);
            }

            foreach (var (key, pattern) in intent.Patterns.Select((p, i) => ($"Patterns:{i}", p)).Concat(intent.Slots.Select(s => ($"Slots:{s.Key}", s.Value))))
            {
                string? error = null;
                try
                {
                    _ = new Regex(pattern, RegexOptions.None, TimeSpan.FromMilliseconds(100));
                }
                catch (ArgumentException ex)
                {
                    error = ex.Message;
                }

                if (error is not null)
                {
                    yield return new ValidationResult($"is not a valid regular expression: {error}", [$"{nameof(Items)}:{name}:{key}"]);
                }
            }
        }
    }

    [GeneratedRegex("^[a-z][a-z0-9_]{0,63}$")]
    private static partial Regex NamePattern();
}

/// <summary>One intent: how it is recognised, the slots it takes, and optionally the plugin it goes to.</summary>
public sealed class IntentDefinition
{
    /// <summary>One line for the model's choice (in the users' language).</summary>
    public string Description { get; set; } = "";

    /// <summary>Words any of which, contained in the message, mean this intent (case-insensitive).</summary>
    public IList<string> Keywords { get; } = [];

    /// <summary>Regular expressions any of which, matching the message, mean this intent; named groups fill slots.</summary>
    public IList<string> Patterns { get; } = [];

    /// <summary>Labelled example messages for the classifier and for the model's prompt.</summary>
    public IList<string> Examples { get; } = [];

    /// <summary>Slots by name, each a regular expression whose first group (or whole match) is the value,
    /// tried on the message whichever step recognised the intent.</summary>
    public IDictionary<string, string> Slots { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>The plugin this intent routes to: only that plugin runs for the turn. Default none: every
    /// plugin on in the chat sees the intent.</summary>
    public string? Plugin { get; set; }
}
