using Microsoft.Extensions.Options;

namespace WeSeek.Moderation;

/// <summary>
/// The word lists in effect, and edits to them from the console. A list's words come from the configuration
/// (<c>Moderation:Lists:NAME:Words</c>, read-only here) and from its word file (<c>Moderation:Lists:NAME:File</c>); the
/// console edits the file. A save writes the new file beside the old one and moves it into place, then builds the
/// new <see cref="WordFilter"/> and only then makes it current: a failed save leaves the file and the filter as they
/// were. Each turn takes the filter current when it starts (<see cref="WordFilter"/> is resolved per turn scope).
/// Thread-safe.
/// </summary>
internal sealed class WordLists
{
    /// <summary>Most words a file may hold from the console, and the longest word: a list is words, not text.</summary>
    public const int MaxWords = 100_000;

    /// <summary>The longest word the console accepts.</summary>
    public const int MaxWordLength = 100;

    private readonly IOptions<ModerationOptions> _options;
    private readonly Lock _save = new();
    private volatile WordFilter _current;

    public WordLists(IOptions<ModerationOptions> options)
    {
        _options = options;
        _current = new WordFilter(options);
    }

    /// <summary>The filter every new turn uses.</summary>
    public WordFilter Current => _current;

    /// <summary>The words of a list's file, in file order (comments and blank lines left out); empty without a file.</summary>
    public IReadOnlyList<string> FileWords(string list) =>
        _options.Value.Lists.TryGetValue(list, out var options) && !string.IsNullOrEmpty(options.File) && File.Exists(options.File)
            ? [.. File.ReadLines(options.File).Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#'))]
            : [];

    /// <summary>Replaces the words of <paramref name="list"/>'s file. Returns null when saved, else why not (and
    /// nothing changed).</summary>
    public string? Save(string list, IReadOnlyList<string> words)
    {
        if (!_options.Value.Lists.TryGetValue(list, out var options))
        {
            return $"No word list is called '{list}'. Lists: {string.Join(", ", _options.Value.Lists.Keys)}.";
        }

        if (string.IsNullOrEmpty(options.File))
        {
            return $"The words of '{list}' are in the configuration (Moderation:Lists:{list}:Words). Give the list a word file (Moderation:Lists:{list}:File) to edit it here.";
        }

        var cleaned = words.Select(w => w.Trim()).Where(w => w.Length > 0 && !w.StartsWith('#')).Distinct(StringComparer.Ordinal).ToList();
        if (cleaned.Count > MaxWords)
        {
            return $"{cleaned.Count} words is more than a list may hold here ({MaxWords}).";
        }

        if (cleaned.FirstOrDefault(w => w.Length > MaxWordLength) is { } tooLong)
        {
            return $"'{tooLong[..20]}…' is longer than {MaxWordLength} characters: a list holds words, not text.";
        }

        lock (_save)
        {
            var path = Path.GetFullPath(options.File);
            var temporary = path + ".saving";
            var backup = File.Exists(path) ? File.ReadAllBytes(path) : null;
            try
            {
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                File.WriteAllLines(temporary, ["# Edited in the WeSeek console (审核 Moderation). One word per line; # starts a comment.", .. cleaned]);
                File.Move(temporary, path, overwrite: true);
                _current = new WordFilter(_options);
                return null;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                File.Delete(temporary);
                if (backup is not null)
                {
                    File.WriteAllBytes(path, backup);
                }

                return $"The word file {path} could not be written: {ex.Message}. Nothing changed.";
            }
        }
    }
}
