using System.Globalization;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace WeSeek.Plugins.Sql;

/// <summary>
/// A SQLite database that can only be read, and only through allowed tables. Three layers, so that no single
/// mistake opens it: the file is opened <c>Mode=ReadOnly</c> with <c>PRAGMA query_only</c> on; SQLite's
/// authorizer, consulted while each statement compiles, denies every action except SELECT, reading a column of
/// an allowed table (through allowed views only) in the main database, and calling an allowed function; and a
/// query must be exactly one statement that SQLite itself reports as read-only, with named parameters only.
/// Thread-safe: every query opens its own unpooled connection (an authorizer stays on a connection, so a pooled
/// one would carry it to other users of the same connection string).
/// </summary>
internal sealed class ReadOnlySqlite
{
    /// <summary>
    /// Functions a query may call: aggregates, string, number and date functions. Left out on purpose:
    /// <c>randomblob</c>/<c>zeroblob</c> (a large argument allocates that much), <c>load_extension</c>, the
    /// <c>sqlite_*</c> introspection functions, and anything an extension adds.
    /// </summary>
    public static readonly IReadOnlySet<string> AllowedFunctions = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
    {
        "count", "sum", "total", "avg", "min", "max", "group_concat", "string_agg",
        "abs", "round", "ceil", "ceiling", "floor", "trunc",
        "length", "lower", "upper", "trim", "ltrim", "rtrim", "substr", "substring", "replace", "instr", "printf", "format",
        "coalesce", "ifnull", "nullif", "iif", "typeof", "like", "glob",
        "date", "time", "datetime", "julianday", "unixepoch", "strftime",
    };

    private readonly string _connectionString;
    private readonly HashSet<string> _tables;

    public ReadOnlySqlite(string connectionString, IEnumerable<string> tables)
    {
        var builder = new SqliteConnectionStringBuilder(connectionString) { Mode = SqliteOpenMode.ReadOnly, Pooling = false };
        _connectionString = builder.ToString();
        _tables = new HashSet<string>(tables.Where(t => !t.StartsWith("sqlite_", StringComparison.OrdinalIgnoreCase)), StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>Checks a query without running it: its parameters and the tables it reads.</summary>
    /// <exception cref="SqlRefusedException">It writes, reads a table that is not allowed, or is not one statement.</exception>
    /// <exception cref="SqliteException">The database cannot be opened.</exception>
    public SqlQueryPlan Check(string sql)
    {
        using var connection = Open(out var gate);
        return Check(connection, gate, sql);
    }

    /// <summary>
    /// Runs a query with the slots as its parameters (each bound by name, never spliced into the text) and reads at
    /// most <paramref name="maxRows"/> rows. A query that needs a slot the turn lacks is not run.
    /// </summary>
    /// <exception cref="SqlRefusedException">The query is refused (see <see cref="Check(string)"/>).</exception>
    public async Task<SqlQueryResult> QueryAsync(string sql, Func<string, string?> slot, int maxRows, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(slot);
        await using var connection = Open(out var gate);
        var plan = Check(connection, gate, sql);
        var values = plan.Parameters.Select(p => (Parameter: p, Value: slot(p.TrimStart('@', ':', '$')))).ToList();
        var missing = values.Where(v => v.Value is null).Select(v => v.Parameter.TrimStart('@', ':', '$')).ToList();
        if (missing.Count > 0)
        {
            return new SqlQueryResult(plan, [], [], false, missing);
        }

        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (parameter, value) in values)
        {
            command.Parameters.AddWithValue(parameter, value);
        }

        // Microsoft.Data.Sqlite checks the token only between rows; an interrupt stops a long step too.
        await using var interrupt = cancellationToken.Register(() => raw.sqlite3_interrupt(connection.Handle));
        try
        {
            return await ReadAsync(command, plan, maxRows, cancellationToken);
        }
        catch (SqliteException ex) when (ex.SqliteErrorCode == raw.SQLITE_INTERRUPT && cancellationToken.IsCancellationRequested)
        {
            throw new OperationCanceledException("The query was interrupted.", ex, cancellationToken);
        }
    }

    private static async Task<SqlQueryResult> ReadAsync(SqliteCommand command, SqlQueryPlan plan, int maxRows, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var columns = Enumerable.Range(0, reader.FieldCount).Select(reader.GetName).ToList();
        var rows = new List<string?[]>();
        var more = false;
        while (await reader.ReadAsync(cancellationToken))
        {
            if (rows.Count == maxRows)
            {
                more = true;
                break;
            }

            var row = new string?[reader.FieldCount];
            for (var i = 0; i < row.Length; i++)
            {
                row[i] = reader.IsDBNull(i) ? null : reader.GetValue(i) switch
                {
                    byte[] blob => $"({blob.Length} bytes)",
                    IFormattable number => number.ToString(null, CultureInfo.InvariantCulture),
                    var other => other.ToString(),
                };
            }

            rows.Add(row);
        }

        return new SqlQueryResult(plan, columns, rows, more, []);
    }

    private SqliteConnection Open(out Authorizer gate)
    {
        var connection = new SqliteConnection(_connectionString);
        try
        {
            connection.Open();
            var views = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            using (var command = connection.CreateCommand())
            {
                // The authorizer names the view a read goes through, but also a WITH clause's name: it needs to
                // know which names are views.
                command.CommandText = "PRAGMA query_only = 1; SELECT name FROM sqlite_master WHERE type = 'view';";
                using var reader = command.ExecuteReader();
                while (reader.Read())
                {
                    views.Add(reader.GetString(0));
                }
            }

            gate = new Authorizer(_tables, views);
            var rc = raw.sqlite3_set_authorizer(connection.Handle, gate.Authorize, null);
            if (rc != raw.SQLITE_OK)
            {
                throw new SqlRefusedException($"SQLite refused to install the authorizer (error {rc}); no query runs without it");
            }

            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    private static SqlQueryPlan Check(SqliteConnection connection, Authorizer gate, string sql)
    {
        if (string.IsNullOrWhiteSpace(sql))
        {
            throw new SqlRefusedException("the query is empty");
        }

        var db = connection.Handle!;
        gate.Reset();
        var rc = raw.sqlite3_prepare_v2(db, sql, out var statement, out var tail);
        using (statement)
        {
            if (rc != raw.SQLITE_OK)
            {
                throw new SqlRefusedException(gate.Denial ?? $"it does not compile: {raw.sqlite3_errmsg(db).utf8_to_string()}");
            }

            if (statement is null || statement.IsInvalid)
            {
                throw new SqlRefusedException("the query holds no statement");
            }

            var tables = gate.TablesRead.ToList();
            if (!string.IsNullOrWhiteSpace(tail))
            {
                // What follows the first statement must be nothing but comments: compile it to find out.
                var nextRc = raw.sqlite3_prepare_v2(db, tail, out var next, out _);
                using (next)
                {
                    if (nextRc != raw.SQLITE_OK || (next is not null && !next.IsInvalid))
                    {
                        throw new SqlRefusedException("the query holds more than one statement; write exactly one SELECT");
                    }
                }
            }

            if (raw.sqlite3_stmt_readonly(statement) == 0)
            {
                throw new SqlRefusedException("SQLite reports that the statement writes");
            }

            var parameters = new List<string>();
            for (var i = 1; i <= raw.sqlite3_bind_parameter_count(statement); i++)
            {
                var name = raw.sqlite3_bind_parameter_name(statement, i).utf8_to_string();
                if (string.IsNullOrEmpty(name) || name[0] == '?')
                {
                    throw new SqlRefusedException("the query has a positional parameter (?); name every parameter after its slot (@order_id)");
                }

                parameters.Add(name);
            }

            if (tables.Count == 0)
            {
                throw new SqlRefusedException("the query reads no table; it has nothing to cite");
            }

            return new SqlQueryPlan(parameters, tables);
        }
    }

    /// <summary>SQLite's authorizer callback for one connection; remembers the first denial and the tables read.</summary>
    private sealed class Authorizer(HashSet<string> tables, HashSet<string> views)
    {
        // Action codes from sqlite3.h ("Authorizer Action Codes").
        private const int Read = 20;
        private const int Select = 21;
        private const int Function = 31;

        /// <summary>The first refusal (SQLite stops compiling at it).</summary>
        public string? Denial { get; private set; }

        public List<string> TablesRead { get; } = [];

        public void Reset()
        {
            Denial = null;
            TablesRead.Clear();
        }

        public int Authorize(object userData, int action, string? param0, string? param1, string? database, string? viewOrTrigger)
        {
            string? denial = action switch
            {
                Select => null,
                // SQLite names no database for a table whose columns a query does not use (count(*) over a join);
                // with ATTACH denied and temp tables uncreatable, such a read is of main or of an unlisted table.
                Read when database is { Length: > 0 } && !string.Equals(database, "main", StringComparison.OrdinalIgnoreCase) => $"it reads {param0} in database {database}; only the main database is open to queries",
                Read when !tables.Contains(param0 ?? "") => viewOrTrigger is null
                    ? $"it reads table {param0}, which is not in Plugins:Sql:Tables"
                    : $"it reads table {param0} (through {viewOrTrigger}), which is not in Plugins:Sql:Tables",
                Read when viewOrTrigger is not null && views.Contains(viewOrTrigger) && !tables.Contains(viewOrTrigger) => $"it reads through view {viewOrTrigger}, which is not in Plugins:Sql:Tables",
                Read => null,
                Function when AllowedFunctions.Contains(param1 ?? "") => null,
                Function => $"it calls function {param1}, which queries may not use",
                _ => $"it would {Describe(action, param0)}; queries may only read",
            };

            if (denial is null)
            {
                if (action == Read && !TablesRead.Contains(param0!, StringComparer.OrdinalIgnoreCase))
                {
                    TablesRead.Add(param0!);
                }

                return raw.SQLITE_OK;
            }

            Denial ??= denial;
            return raw.SQLITE_DENY;
        }

        private static string Describe(int action, string? name) => action switch
        {
            // CREATE, DROP and ALTER first ask to write SQLite's own schema table.
            9 or 18 or 23 when name is not null && name.StartsWith("sqlite_", StringComparison.OrdinalIgnoreCase) => $"change the schema (write {name})",
            1 or 3 => $"create index {name}",
            2 or 4 => $"create table {name}",
            5 or 7 => $"create trigger {name}",
            6 or 8 => $"create view {name}",
            9 => $"DELETE from {name}",
            10 or 12 => $"drop index {name}",
            11 or 13 => $"DROP table {name}",
            14 or 16 => $"drop trigger {name}",
            15 or 17 => $"drop view {name}",
            18 => $"INSERT into {name}",
            19 => $"run PRAGMA {name}",
            22 => $"control a transaction ({name})",
            23 => $"UPDATE {name}",
            24 => "ATTACH a database",
            25 => "DETACH a database",
            26 => $"ALTER table {name}",
            27 => "REINDEX",
            28 => "ANALYZE",
            29 => "create a virtual table",
            30 => "drop a virtual table",
            32 => "use a SAVEPOINT",
            33 => "run a recursive query",
            _ => $"perform action {action}",
        };
    }
}

/// <summary>What a checked query needs and reads.</summary>
/// <param name="Parameters">Its named parameters, as written (<c>@order_id</c>).</param>
/// <param name="Tables">The tables it reads, in the order SQLite met them.</param>
internal sealed record SqlQueryPlan(IReadOnlyList<string> Parameters, IReadOnlyList<string> Tables);

/// <summary>A query's rows, rendered to text; or the slots it lacked (then nothing ran).</summary>
internal sealed record SqlQueryResult(SqlQueryPlan Plan, IReadOnlyList<string> Columns, IReadOnlyList<string?[]> Rows, bool More, IReadOnlyList<string> MissingSlots);

/// <summary>A query was refused: it would write, reads a table that is not allowed, or is not one statement.</summary>
public sealed class SqlRefusedException : Exception
{
    /// <summary>Creates the exception.</summary>
    public SqlRefusedException()
        : base("The query was refused.")
    {
    }

    /// <summary>Creates the exception with the reason.</summary>
    public SqlRefusedException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with the reason and its cause.</summary>
    public SqlRefusedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
