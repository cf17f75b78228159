using WeSeek.Operations;

namespace WeSeek.Hosting;

/// <summary>In-process <see cref="IOperatorNotices"/>; a handful of short strings at most.</summary>
internal sealed class OperatorNotices : IOperatorNotices
{
    private readonly Lock _gate = new();
    private string[] _notices = [];

    public IReadOnlyList<string> Current => _notices;

    public void Add(string notice)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(notice);
        lock (_gate)
        {
            if (!_notices.Contains(notice, StringComparer.Ordinal))
            {
                _notices = [.. _notices, notice];
            }
        }
    }
}
