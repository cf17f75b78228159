using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;

namespace WeSeek.Plugins.Sql;

/// <summary>
/// Checks every configured query against the database at start-up (read-only, as at run time), so a query that
/// would write, read a table that is not allowed, or not compile stops start-up with its key and the reason,
/// instead of failing in a user's chat.
/// </summary>
internal sealed class SqlPluginValidator : IValidateOptions<SqlPluginOptions>
{
    private const string Section = "Plugins:Sql";

    public ValidateOptionsResult Validate(string? name, SqlPluginOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Queries.Count == 0 || string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            return ValidateOptionsResult.Success;
        }

        ReadOnlySqlite database;
        try
        {
            database = new ReadOnlySqlite(options.ConnectionString, options.Tables);
        }
        catch (ArgumentException ex)
        {
            return ValidateOptionsResult.Fail(Failure(nameof(SqlPluginOptions.ConnectionString), $"is not a SQLite connection string ({ex.Message})"));
        }

        var failures = new List<string>();
        foreach (var (intent, query) in options.Queries.Where(q => !string.IsNullOrWhiteSpace(q.Value.Sql)))
        {
            try
            {
                database.Check(query.Sql);
            }
            catch (SqlRefusedException ex)
            {
                failures.Add(Failure($"Queries:{intent}:Sql", $"query for intent '{intent}' refused: {ex.Message}"));
            }
            catch (SqliteException ex)
            {
                return ValidateOptionsResult.Fail(Failure(nameof(SqlPluginOptions.ConnectionString), $"the database cannot be opened read-only: {ex.Message}"));
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static string Failure(string member, string message)
    {
        var key = $"{Section}:{member}";
        return $"{key} (environment variable WESEEK__{key.Replace(":", "__", StringComparison.Ordinal)}): {message}";
    }
}
