using System.ComponentModel.DataAnnotations;

namespace WeSeek.Plugins.Sql;

/// <summary>
/// The SQL plugin (<c>sql</c>): read-only answers from a configured SQLite database, one named query per intent.
/// Section <c>Plugins:Sql</c>; the plugin is registered only when <c>Queries</c> names at least one query.
/// </summary>
public sealed class SqlPluginOptions : IValidatableObject
{
    /// <summary>
    /// The SQLite database, as a connection string (<c>Data Source=shop.db</c>; a relative path is relative to the
    /// working directory). Whatever it says about <c>Mode</c> or <c>Pooling</c>, the file is opened read-only
    /// (<c>Mode=ReadOnly</c>) and unpooled, so no statement can write to it. Required.
    /// </summary>
    [Required]
    public string ConnectionString { get; set; } = "";

    /// <summary>
    /// The only tables (or views) a query may read, compared without case. A view is readable when it and every
    /// table it reads are listed; SQLite's own tables (<c>sqlite_master</c> and the rest) can never be listed.
    /// Default none, which refuses every query.
    /// </summary>
    public IList<string> Tables { get; } = [];

    /// <summary>Named queries by intent name (<c>order_status</c>): the query that answers a turn with that intent.</summary>
    public IDictionary<string, SqlQueryOptions> Queries { get; } = new Dictionary<string, SqlQueryOptions>(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// Most rows one query puts into the prompt, unless the query sets its own. Default 20: a small table is what a
    /// chat answer can use; more rows only crowd out the conversation.
    /// </summary>
    [Range(1, 200)]
    public int MaxRows { get; set; } = 20;

    /// <summary>
    /// Most characters of one rendered result. Default 1500: about as much as the knowledge base's five passages,
    /// which leaves room for history in a 4k context. Rows past it are left out, and the passage says so.
    /// </summary>
    [Range(100, 20000)]
    public int MaxChars { get; set; } = 1500;

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var table in Tables)
        {
            if (string.IsNullOrWhiteSpace(table) || table.StartsWith("sqlite_", StringComparison.OrdinalIgnoreCase))
            {
                yield return new ValidationResult($"'{table}' cannot be allowed: SQLite's own tables hold the schema, not data", [nameof(Tables)]);
            }
        }

        foreach (var (intent, query) in Queries)
        {
            if (string.IsNullOrWhiteSpace(query.Sql))
            {
                yield return new ValidationResult("is empty", [$"{nameof(Queries)}:{intent}:{nameof(SqlQueryOptions.Sql)}"]);
            }

            if (query.MaxRows is < 1 or > 200)
            {
                yield return new ValidationResult("must be between 1 and 200", [$"{nameof(Queries)}:{intent}:{nameof(SqlQueryOptions.MaxRows)}"]);
            }
        }
    }
}

/// <summary>One named query.</summary>
public sealed class SqlQueryOptions
{
    /// <summary>
    /// One SELECT with named parameters (<c>SELECT id, status FROM orders WHERE id = @order_id</c>). Each parameter
    /// takes the intent's slot of the same name, always as a bound value, never as SQL text; a turn that lacks a
    /// slot the query needs is left to the model. Checked at start-up: anything but reading allowed tables stops it.
    /// </summary>
    public string Sql { get; set; } = "";

    /// <summary>Most rows for this query. Default: <see cref="SqlPluginOptions.MaxRows"/>.</summary>
    public int? MaxRows { get; set; }
}
