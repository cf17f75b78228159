using WeSeek.Operations;

namespace WeSeek.Hosting;

/// <summary>In-process <see cref="IOperatorNotices"/>; a handful of short strings at most.</summary>
internal sealed class OperatorNotices : IOperatorNotices
{
    private readonly Lock _gate = new();
    private string[] _notices = [];
    private string[] _forVisitors = [];

    public IReadOnlyList<string> Current => _notices;

    public IReadOnlyList<string> ForVisitors => _forVisitors;

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

    public void AddForVisitors(string notice)
    {
        Add(notice);
        lock (_gate)
        {
            if (!_forVisitors.Contains(notice, StringComparer.Ordinal))
            {
                _forVisitors = [.. _forVisitors, notice];
            }
        }
    }
}
