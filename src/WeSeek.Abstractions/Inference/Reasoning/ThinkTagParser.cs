using System.Text;

namespace WeSeek.Inference.Reasoning;

/// <summary>
/// Splits DeepSeek-R1 output into reasoning and answer, fed in chunks of any size (tags may be split
/// anywhere). The rules, the same for one chunk as for many:
/// <list type="bullet">
/// <item>reasoning ends at the first <c>&lt;/think&gt;</c>; its text is what lies between the markers,
/// with leading and trailing whitespace removed;</item>
/// <item>the answer is what follows <c>&lt;/think&gt;</c>, leading whitespace removed;</item>
/// <item>output that ends while still reasoning is cut off: no answer.</item>
/// </list>
/// Text is released as early as these rules allow: only a possible partial tag and trailing whitespace of
/// reasoning are held back. Not thread-safe; one instance per response.
/// </summary>
internal sealed class ThinkTagParser
{
    private const string Open = "<think>";
    private const string Close = "</think>";

    private readonly StringBuilder _pending = new();
    private State _state;

    public ThinkTagParser(ThinkStart start) => _state = start == ThinkStart.Open ? State.OpenStart : State.Undecided;

    private enum State
    {
        Undecided,
        OpenStart,
        Thinking,
        AnswerStart,
        Answer,
        PassThrough,
    }

    /// <summary>True when the output ended inside reasoning (set by <see cref="Complete"/>).</summary>
    public bool CutOff { get; private set; }

    /// <summary>True once the inner client was seen to split reasoning itself.</summary>
    public bool PassingThrough => _state == State.PassThrough;

    /// <summary>Switches to pass-through: the server splits reasoning, so all text is answer.</summary>
    public void PassThrough()
    {
        _pending.Clear();
        _state = State.PassThrough;
    }

    /// <summary>Feeds a chunk; appends the pieces that are certain to <paramref name="output"/>.</summary>
    public void Feed(string chunk, List<(bool Reasoning, string Text)> output)
    {
        ArgumentNullException.ThrowIfNull(chunk);
        if (_state is State.Answer or State.PassThrough)
        {
            Emit(output, false, chunk);
            return;
        }

        _pending.Append(chunk);
        Advance(output, final: false);
    }

    /// <summary>Ends the output; appends what was held back.</summary>
    public void Complete(List<(bool Reasoning, string Text)> output)
    {
        Advance(output, final: true);
        switch (_state)
        {
            case State.Undecided:
                Emit(output, false, _pending.ToString().TrimStart());
                break;
            case State.OpenStart:
            case State.Thinking:
                Emit(output, true, _pending.ToString().Trim());
                CutOff = true;
                break;
        }

        _pending.Clear();
    }

    private void Advance(List<(bool Reasoning, string Text)> output, bool final)
    {
        while (true)
        {
            switch (_state)
            {
                case State.Undecided:
                case State.OpenStart:
                {
                    var text = _pending.ToString().TrimStart();
                    if (text.Length == 0 || (!final && text.Length < Open.Length && Open.StartsWith(text, StringComparison.Ordinal)))
                    {
                        return; // Not enough to tell yet.
                    }

                    _pending.Clear();
                    if (text.StartsWith(Open, StringComparison.Ordinal))
                    {
                        _pending.Append(text, Open.Length, text.Length - Open.Length);
                        _state = State.Thinking;
                    }
                    else if (_state == State.OpenStart)
                    {
                        _pending.Append(text);
                        _state = State.Thinking;
                    }
                    else
                    {
                        _state = State.Answer;
                        Emit(output, false, text);
                        return;
                    }

                    break;
                }

                case State.Thinking:
                {
                    var text = _pending.ToString();
                    var close = text.IndexOf(Close, StringComparison.Ordinal);
                    if (close >= 0)
                    {
                        Emit(output, true, text[..close].TrimEnd());
                        _pending.Clear().Append(text, close + Close.Length, text.Length - close - Close.Length);
                        _state = State.AnswerStart;
                        break;
                    }

                    if (final)
                    {
                        return; // Complete() reports what is left as cut-off reasoning.
                    }

                    // Hold back a possible start of "</think>" and the whitespace before it: trailing
                    // whitespace belongs to the reasoning only if more reasoning follows.
                    var keep = PartialTagLength(text);
                    var release = text.Length - keep;
                    while (release > 0 && char.IsWhiteSpace(text[release - 1]))
                    {
                        release--;
                    }

                    Emit(output, true, text[..release]);
                    _pending.Remove(0, release);
                    return;
                }

                case State.AnswerStart:
                {
                    var text = _pending.ToString().TrimStart();
                    if (text.Length == 0)
                    {
                        _pending.Clear();
                        return;
                    }

                    _pending.Clear();
                    _state = State.Answer;
                    Emit(output, false, text);
                    return;
                }

                default:
                    return;
            }
        }
    }

    /// <summary>Length of the longest suffix of <paramref name="text"/> that is a proper prefix of the close tag.</summary>
    private static int PartialTagLength(string text)
    {
        for (var length = Math.Min(Close.Length - 1, text.Length); length > 0; length--)
        {
            if (string.CompareOrdinal(text, text.Length - length, Close, 0, length) == 0)
            {
                return length;
            }
        }

        return 0;
    }

    private void Emit(List<(bool Reasoning, string Text)> output, bool reasoning, string text)
    {
        if (text.Length == 0)
        {
            return;
        }

        // Leading whitespace of reasoning is dropped once, at its start.
        if (reasoning && !_reasoningStarted)
        {
            text = text.TrimStart();
            if (text.Length == 0)
            {
                return;
            }

            _reasoningStarted = true;
        }

        output.Add((reasoning, text));
    }

    private bool _reasoningStarted;
}
