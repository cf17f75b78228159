namespace WeSeek.Moderation;

/// <summary>A word found in a text: its index in the word list and where it is (half-open).</summary>
internal readonly record struct WordMatch(int Word, int Start, int End);

/// <summary>
/// Aho–Corasick automaton over a fixed word list: finds every occurrence of every word in one pass over the
/// text, whatever the number of words (a sensitive-word list has thousands). Written here because no
/// maintained .NET package is served for it; the algorithm is the textbook one (goto, failure and dictionary
/// suffix links built breadth-first). Immutable after construction; thread-safe.
/// </summary>
/// <remarks>
/// Built with a dictionary per node, then packed into flat arrays: each node's transitions are a short run of
/// (character, child) pairs sorted by character, read by a linear scan (most nodes have one or two children) or a
/// binary search. The root's transitions are a table indexed by the character instead: on ordinary text most
/// steps fall back to the root, and a table makes them one array read. Packed, the pass over the pinyin of a
/// 2,000-character message against 10,000 words went from about 450 µs to 150–300 µs on a busy machine (the
/// benchmark is bench/WeSeek.Benchmarks, --suite moderation); the table costs 256 KiB per automaton, the rest about
/// 10 bytes per trie node.
/// </remarks>
internal sealed class AhoCorasick
{
    private const int LinearScanLimit = 8;

    private readonly int[] _root = new int[char.MaxValue + 1];  // child of the root by character, or 0
    private readonly int[] _firstEdge;                           // node's transitions: _firstEdge[node] to _firstEdge[node + 1]
    private readonly char[] _edgeChar;
    private readonly int[] _edgeTarget;
    private readonly int[] _fail;
    private readonly int[] _word;          // word ending at this node, or -1
    private readonly int[] _outputLink;    // nearest node on the failure chain that ends a word, or -1
    private readonly int[] _lengths;

    public AhoCorasick(IReadOnlyList<string> words)
    {
        ArgumentNullException.ThrowIfNull(words);
        _lengths = [.. words.Select(w => w.Length)];
        var next = new List<Dictionary<char, int>> { new() };
        var word = new List<int> { -1 };
        for (var i = 0; i < words.Count; i++)
        {
            if (words[i].Length == 0)
            {
                continue;
            }

            var node = 0;
            foreach (var c in words[i])
            {
                if (!next[node].TryGetValue(c, out var child))
                {
                    child = next.Count;
                    next.Add([]);
                    word.Add(-1);
                    next[node][c] = child;
                }

                node = child;
            }

            if (word[node] < 0)
            {
                word[node] = i;
            }
        }

        _word = [.. word];
        _fail = new int[next.Count];
        _outputLink = new int[next.Count];
        Array.Fill(_outputLink, -1);
        var queue = new Queue<int>(next[0].Values);
        while (queue.Count > 0)
        {
            var node = queue.Dequeue();
            foreach (var (c, child) in next[node])
            {
                var fail = _fail[node];
                while (fail > 0 && !next[fail].ContainsKey(c))
                {
                    fail = _fail[fail];
                }

                _fail[child] = next[fail].TryGetValue(c, out var target) && target != child ? target : 0;
                _outputLink[child] = _word[_fail[child]] >= 0 ? _fail[child] : _outputLink[_fail[child]];
                queue.Enqueue(child);
            }
        }

        foreach (var (c, child) in next[0])
        {
            _root[c] = child;
        }

        _firstEdge = new int[next.Count + 1];
        _edgeChar = new char[next.Sum(n => n.Count)];
        _edgeTarget = new int[_edgeChar.Length];
        var edge = 0;
        for (var node = 0; node < next.Count; node++)
        {
            _firstEdge[node] = edge;
            foreach (var (c, child) in next[node].OrderBy(e => e.Key))
            {
                _edgeChar[edge] = c;
                _edgeTarget[edge] = child;
                edge++;
            }
        }

        _firstEdge[next.Count] = edge;
    }

    public IEnumerable<WordMatch> Find(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var node = 0;
        for (var i = 0; i < text.Length; i++)
        {
            node = Step(node, text[i]);
            for (var hit = _word[node] >= 0 ? node : _outputLink[node]; hit > 0; hit = _outputLink[hit])
            {
                var word = _word[hit];
                yield return new WordMatch(word, i + 1 - _lengths[word], i + 1);
            }
        }
    }

    private int Step(int node, char c)
    {
        while (node > 0)
        {
            if (Child(node, c) is var child and > 0)
            {
                return child;
            }

            node = _fail[node];
        }

        return _root[c];
    }

    /// <summary>The node's child by <paramref name="c"/>, or 0.</summary>
    private int Child(int node, char c)
    {
        var from = _firstEdge[node];
        var to = _firstEdge[node + 1];
        if (to - from <= LinearScanLimit)
        {
            for (var e = from; e < to; e++)
            {
                if (_edgeChar[e] == c)
                {
                    return _edgeTarget[e];
                }
            }

            return 0;
        }

        var found = Array.BinarySearch(_edgeChar, from, to - from, c);
        return found >= 0 ? _edgeTarget[found] : 0;
    }
}
