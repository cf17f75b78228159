namespace WeSeek.Moderation;

/// <summary>A word found in a text: its index in the word list and where it is (half-open).</summary>
internal readonly record struct WordMatch(int Word, int Start, int End);

/// <summary>
/// Aho–Corasick automaton over a fixed word list: finds every occurrence of every word in one pass over the
/// text, whatever the number of words (a sensitive-word list has thousands). Written here because no
/// maintained .NET package is served for it; the algorithm is the textbook one (goto, failure and dictionary
/// suffix links built breadth-first). Immutable after construction; thread-safe.
/// </summary>
internal sealed class AhoCorasick
{
    private readonly List<Dictionary<char, int>> _next = [];
    private readonly List<int> _fail = [];
    private readonly List<int> _word = [];          // word ending at this node, or -1
    private readonly List<int> _outputLink = [];    // nearest node on the failure chain that ends a word, or -1
    private readonly int[] _lengths;

    public AhoCorasick(IReadOnlyList<string> words)
    {
        ArgumentNullException.ThrowIfNull(words);
        _lengths = [.. words.Select(w => w.Length)];
        NewNode();
        for (var i = 0; i < words.Count; i++)
        {
            if (words[i].Length == 0)
            {
                continue;
            }

            var node = 0;
            foreach (var c in words[i])
            {
                if (!_next[node].TryGetValue(c, out var child))
                {
                    child = NewNode();
                    _next[node][c] = child;
                }

                node = child;
            }

            if (_word[node] < 0)
            {
                _word[node] = i;
            }
        }

        var queue = new Queue<int>();
        foreach (var child in _next[0].Values)
        {
            queue.Enqueue(child);
        }

        while (queue.Count > 0)
        {
            var node = queue.Dequeue();
            foreach (var (c, child) in _next[node])
            {
                var fail = _fail[node];
                while (fail > 0 && !_next[fail].ContainsKey(c))
                {
                    fail = _fail[fail];
                }

                _fail[child] = _next[fail].TryGetValue(c, out var target) && target != child ? target : 0;
                _outputLink[child] = _word[_fail[child]] >= 0 ? _fail[child] : _outputLink[_fail[child]];
                queue.Enqueue(child);
            }
        }
    }

    public IEnumerable<WordMatch> Find(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var node = 0;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            while (node > 0 && !_next[node].ContainsKey(c))
            {
                node = _fail[node];
            }

            node = _next[node].TryGetValue(c, out var child) ? child : 0;
            for (var hit = _word[node] >= 0 ? node : _outputLink[node]; hit > 0; hit = _outputLink[hit])
            {
                var word = _word[hit];
                yield return new WordMatch(word, i + 1 - _lengths[word], i + 1);
            }
        }
    }

    private int NewNode()
    {
        _next.Add([]);
        _fail.Add(0);
        _word.Add(-1);
        _outputLink.Add(-1);
        return _next.Count - 1;
    }
}
