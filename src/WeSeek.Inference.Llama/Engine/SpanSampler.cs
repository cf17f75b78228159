namespace WeSeek.Inference.Llama.Engine;

/// <summary>
/// Samples a token straight from a conversation's logits row in C#: top-k by one pass of partial selection,
/// then top-p over the k survivors, temperature, and a draw from a seeded generator; greedy at temperature 0.
/// Or from the k candidates llama.cpp's decode already selected (<c>Model:Llama:Sampler=backend</c>): the same
/// top-p, temperature and draw, so both paths give the same tokens for the same seed.
/// Written by hand because llama.cpp's sampler chain builds and sorts a candidate array of the whole vocabulary
/// (152k entries for R1) for every token: measured at 16 ms of a 23 ms step with 64 conversations on an H200,
/// where this needs one scan of the row. Not for grammar-constrained requests (they keep the native chain).
/// One instance per request; not thread-safe.
/// </summary>
internal sealed class SpanSampler
{
    private readonly float _temperature;
    private readonly int _topK;
    private readonly float _topP;
    private readonly Random _random;
    private readonly int[] _ids;
    private readonly float[] _values;
    private readonly ulong[] _keys;

    public SpanSampler(float temperature, int topK, float topP, uint seed)
    {
        _temperature = temperature;
        _topK = Math.Clamp(topK <= 0 ? 40 : topK, 1, 1024);
        _topP = topP <= 0 || topP > 1 ? 1 : topP;
        _random = new Random(unchecked((int)seed));
        _ids = new int[_topK];
        _values = new float[_topK];
        _keys = new ulong[_topK];
    }

    /// <summary>The k the candidates must come from (a backend chain selects this many).</summary>
    public int TopK => _temperature <= 0 ? 1 : _topK;

    public int Sample(ReadOnlySpan<float> logits)
    {
        if (_temperature <= 0)
        {
            return ArgMax(logits);
        }

        // Top-k: keep the k largest in a small array, its minimum tracked (one pass over the row). Once the array
        // is full, whole vector-width blocks with nothing above its minimum are skipped in one comparison: after
        // the first few thousand entries almost every block is, so the pass runs at memory speed.
        var count = Math.Min(_topK, logits.Length);
        for (var i = 0; i < count; i++)
        {
            _ids[i] = i;
            _values[i] = logits[i];
        }

        var minAt = MinIndex(_values, count);
        var at = count;
        var width = System.Numerics.Vector<float>.Count;
        if (System.Numerics.Vector.IsHardwareAccelerated)
        {
            var floor = new System.Numerics.Vector<float>(_values[minAt]);
            for (; at <= logits.Length - width; at += width)
            {
                if (!System.Numerics.Vector.GreaterThanAny(new System.Numerics.Vector<float>(logits.Slice(at, width)), floor))
                {
                    continue;
                }

                for (var i = at; i < at + width; i++)
                {
                    if (logits[i] > _values[minAt])
                    {
                        _ids[minAt] = i;
                        _values[minAt] = logits[i];
                        minAt = MinIndex(_values, count);
                    }
                }

                floor = new System.Numerics.Vector<float>(_values[minAt]);
            }
        }

        for (; at < logits.Length; at++)
        {
            if (logits[at] > _values[minAt])
            {
                _ids[minAt] = at;
                _values[minAt] = logits[at];
                minAt = MinIndex(_values, count);
            }
        }

        return Draw(count);
    }

    /// <summary>Draws from candidates already selected from the row (token ids and their logits, in any order).</summary>
    public int SampleCandidates(ReadOnlySpan<int> ids, ReadOnlySpan<float> logits)
    {
        if (ids.Length == 0 || ids.Length != logits.Length)
        {
            throw new ArgumentException($"{ids.Length} candidate ids for {logits.Length} logits: the decode selected nothing to draw from.", nameof(ids));
        }

        var count = Math.Min(_topK, ids.Length);
        if (_temperature <= 0)
        {
            var best = 0;
            for (var i = 1; i < ids.Length; i++)
            {
                if (logits[i] > logits[best] || (logits[i] == logits[best] && ids[i] < ids[best]))
                {
                    best = i;
                }
            }

            return ids[best];
        }

        // More candidates than k (a chain shared by another k) keeps the k largest; the sort below orders them.
        ids[..count].CopyTo(_ids);
        logits[..count].CopyTo(_values);
        if (ids.Length > count)
        {
            var minAt = MinIndex(_values, count);
            for (var i = count; i < ids.Length; i++)
            {
                if (logits[i] > _values[minAt])
                {
                    _ids[minAt] = ids[i];
                    _values[minAt] = logits[i];
                    minAt = MinIndex(_values, count);
                }
            }
        }

        return Draw(count);
    }

    private int Draw(int count)
    {
        // Largest first, ties by token id: the same candidates always give the same order, whichever order they
        // came in, so a seeded draw repeats (and the backend's candidates draw as the scan's do).
        SortDescending(count);

        // Top-p on the untempered distribution (llama.cpp's order: top-k, top-p, then temperature).
        var max = _values[0];
        var total = 0.0;
        Span<double> weights = stackalloc double[count];
        for (var i = 0; i < count; i++)
        {
            weights[i] = Math.Exp(_values[i] - max);
            total += weights[i];
        }

        var keep = count;
        var cumulative = 0.0;
        for (var i = 0; i < count; i++)
        {
            cumulative += weights[i] / total;
            if (cumulative >= _topP)
            {
                keep = i + 1;
                break;
            }
        }

        // Temperature, then one draw.
        var sum = 0.0;
        for (var i = 0; i < keep; i++)
        {
            weights[i] = Math.Exp((_values[i] - max) / _temperature);
            sum += weights[i];
        }

        var target = _random.NextDouble() * sum;
        for (var i = 0; i < keep; i++)
        {
            target -= weights[i];
            if (target <= 0)
            {
                return _ids[i];
            }
        }

        return _ids[keep - 1];
    }

    private void SortDescending(int count)
    {
        // One key per candidate: the logit's bits made to order as unsigned integers, inverted (largest first),
        // then the token id; sorting the keys orders by logit and breaks ties by id, whatever the input order.
        for (var i = 0; i < count; i++)
        {
            var bits = (uint)BitConverter.SingleToInt32Bits(_values[i]);
            var ascending = (bits & 0x8000_0000u) != 0 ? ~bits : bits | 0x8000_0000u;
            _keys[i] = ((ulong)~ascending << 32) | (uint)_ids[i];
        }

        Array.Sort(_keys, 0, count);
        for (var i = 0; i < count; i++)
        {
            _ids[i] = (int)(uint)_keys[i];
            var ascending = ~(uint)(_keys[i] >> 32);
            _values[i] = BitConverter.Int32BitsToSingle((int)((ascending & 0x8000_0000u) != 0 ? ascending & 0x7FFF_FFFFu : ~ascending));
        }
    }

    private static int ArgMax(ReadOnlySpan<float> logits)
    {
        var best = 0;
        for (var i = 1; i < logits.Length; i++)
        {
            if (logits[i] > logits[best])
            {
                best = i;
            }
        }

        return best;
    }

    private static int MinIndex(float[] values, int count)
    {
        var at = 0;
        for (var i = 1; i < count; i++)
        {
            if (values[i] < values[at])
            {
                at = i;
            }
        }

        return at;
    }
}
