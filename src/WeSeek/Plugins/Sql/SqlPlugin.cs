using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WeSeek.Logging;

namespace WeSeek.Plugins.Sql;

/// <summary>
/// Plugin <c>sql</c>: when the turn's intent names a configured query (<c>Plugins:Sql:Queries</c>), runs it
/// read-only with the intent's slots as parameters and puts the rows into the prompt as a small table, citing
/// 「来源：数据库 orders」. Turns with another intent, or none, are not its business.
/// </summary>
internal sealed partial class SqlPlugin : IWeSeekPlugin
{
    private readonly SqlPluginOptions _options;
    private readonly ReadOnlySqlite _database;
    private readonly ILogger<SqlPlugin> _logger;

    public SqlPlugin(IOptions<SqlPluginOptions> options, ILogger<SqlPlugin> logger)
    {
        _options = options.Value;
        _database = new ReadOnlySqlite(_options.ConnectionString, _options.Tables);
        _logger = logger;
    }

    public string Name => "sql";

    public string Description => "数据库查询：按预设的只读查询查数据库（如订单状态）";

    public async Task<PluginResult?> TryHandleAsync(PluginContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Intent is not { } intent || !_options.Queries.TryGetValue(intent.Name, out var query))
        {
            return null;
        }

        var maxRows = query.MaxRows ?? _options.MaxRows;
        var result = await _database.QueryAsync(query.Sql, name => Slot(intent, name), maxRows, cancellationToken);
        if (result.MissingSlots.Count > 0)
        {
            Log.SlotsMissing(_logger, intent.Name, string.Join(", ", result.MissingSlots));
            return null;
        }

        Log.Queried(_logger, intent.Name, result.Rows.Count, result.More);
        var source = "数据库 " + string.Join("、", result.Plan.Tables);
        return PluginResult.Context([new PluginPassage(Render(intent, result, _options.MaxChars), source)], [$"来源：{source}"]);
    }

    /// <summary>A slot by name, exactly or else without case (slot names come from another configuration).</summary>
    private static string? Slot(TurnIntent intent, string name) =>
        intent.Slot(name) ?? intent.Slots.FirstOrDefault(s => string.Equals(s.Key, name, StringComparison.OrdinalIgnoreCase)).Value;

    /// <summary>
    /// The rows as a pipe-separated table under one line that says what was asked, at most
    /// <paramref name="maxChars"/> characters; rows that do not fit are left out and the text says so.
    /// </summary>
    internal static string Render(TurnIntent intent, SqlQueryResult result, int maxChars)
    {
        var conditions = string.Join("，", result.Plan.Parameters.Select(p => p.TrimStart('@', ':', '$'))
            .Select(p => $"{p} = {Cell(Slot(intent, p))}"));
        var text = new StringBuilder($"查询「{intent.Name}」");
        if (conditions.Length > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $"（{conditions}）");
        }

        if (result.Rows.Count == 0)
        {
            return text.Append("没有查到记录。").ToString();
        }

        text.Append(result.More ? $"的结果，只列出前 {result.Rows.Count} 行（还有更多）：\n" : $"的结果，共 {result.Rows.Count} 行：\n");
        text.Append(string.Join(" | ", result.Columns.Select(c => Cell(c))));
        foreach (var row in result.Rows)
        {
            var line = "\n" + string.Join(" | ", row.Select(Cell));
            if (text.Length + line.Length > maxChars)
            {
                text.Append("\n（结果过长，其余行已省略）");
                break;
            }

            text.Append(line);
        }

        return text.ToString();
    }

    /// <summary>A value on one line, at most 200 characters; NULL as 空.</summary>
    private static string Cell(string? value)
    {
        if (value is null)
        {
            return "空";
        }

        var line = value.ReplaceLineEndings(" ").Replace('|', '｜');
        return line.Length <= 200 ? line : line[..200] + "…";
    }

    private static partial class Log
    {
        [LoggerMessage(WeSeekEventId.SqlQueried, LogLevel.Debug, "SQL plugin ran the query for intent {Intent}: {Rows} rows (more left out: {More})")]
        public static partial void Queried(ILogger logger, string intent, int rows, bool more);

        [LoggerMessage(WeSeekEventId.SqlSlotsMissing, LogLevel.Debug, "SQL plugin did not run the query for intent {Intent}: the turn lacks slots {Slots}")]
        public static partial void SlotsMissing(ILogger logger, string intent, string slots);
    }
}
