using System.Data.Common;

namespace WeSeek.Storage;

/// <summary>Parameters and scalars in the form both providers accept.</summary>
internal static class DbCommandExtensions
{
    /// <summary>Adds <c>@name</c>; null is SQL NULL. Names carry their <c>@</c>, as in the SQL.</summary>
    public static DbParameter AddParameter(this DbCommand command, string name, object? value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value ?? DBNull.Value;
        if (value is null or DBNull)
        {
            // Every nullable parameter here is text; PostgreSQL cannot infer a type for an untyped NULL
            // (@conversation IS NULL).
            parameter.DbType = System.Data.DbType.String;
        }

        command.Parameters.Add(parameter);
        return parameter;
    }

    /// <summary>Adds a binary parameter (an encrypted body).</summary>
    public static DbParameter AddBinary(this DbCommand command, string name, byte[] value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.DbType = System.Data.DbType.Binary;
        parameter.Value = value;
        command.Parameters.Add(parameter);
        return parameter;
    }

    /// <summary>A scalar as a whole number: SQLite gives every integer as Int64, PostgreSQL gives COUNT as Int64,
    /// EXISTS as a boolean and length() as Int32. Null for SQL NULL or no row.</summary>
    public static async Task<long?> ScalarInt64Async(this DbCommand command, CancellationToken cancellationToken) =>
        await command.ExecuteScalarAsync(cancellationToken) switch
        {
            null or DBNull => null,
            bool b => b ? 1 : 0,
            var value => Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture),
        };
}
