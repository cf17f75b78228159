using System.Security.Cryptography;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using WeSeek.Messaging;
using WeSeek.Plugins;
using WeSeek.Plugins.Sql;
using WeSeek.TestKit;

namespace WeSeek.Tests.Plugins;

/// <summary>
/// The SQL plugin on a real SQLite file: intent-driven queries answer, and nothing it is given — a configured
/// query or a slot value — can write to the file or read a table that is not allowed.
/// </summary>
public sealed class SqlPluginTests : IDisposable
{
    private const string OrderQuery = "SELECT id, customer, status, amount FROM orders WHERE id = @order_id";

    private readonly TempDirectory _directory = new();
    private readonly string _file;

    public SqlPluginTests()
    {
        _file = Path.Combine(_directory.Path, "shop.db");
        using var connection = new SqliteConnection($"Data Source={_file};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = """
            CREATE TABLE orders (id INTEGER PRIMARY KEY, customer TEXT NOT NULL, status TEXT NOT NULL, amount REAL NOT NULL);
            CREATE TABLE secrets (id INTEGER PRIMARY KEY, token TEXT NOT NULL);
            INSERT INTO orders VALUES (10023, '张三', '已发货', 99.5), (10024, '李四', '待付款', 12), (10025, '王五', '已完成', 300);
            INSERT INTO secrets VALUES (1, 'tok-hidden-41');
            CREATE VIEW open_orders AS SELECT id, customer, status FROM orders WHERE status <> '已完成';
            CREATE VIEW order_tokens AS SELECT o.id, s.token FROM orders o JOIN secrets s ON s.id = 1;
            """;
        command.ExecuteNonQuery();
    }

    public void Dispose() => _directory.Dispose();

    /// <summary>What a refused statement would have changed, if anything: the file's bytes and its rows.</summary>
    private string Fingerprint()
    {
        var hash = Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(_file)));
        using var connection = new SqliteConnection($"Data Source={_file};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT (SELECT group_concat(id || customer || status || amount) FROM orders) || '/' || (SELECT group_concat(token) FROM secrets) || '/' || (SELECT count(*) FROM sqlite_master)";
        return hash + " " + command.ExecuteScalar();
    }

    private static SqlPluginOptions Options(string file, IDictionary<string, string> queries, params string[] tables)
    {
        var options = new SqlPluginOptions { ConnectionString = $"Data Source={file}" };
        foreach (var table in tables.Length == 0 ? ["orders"] : tables)
        {
            options.Tables.Add(table);
        }

        foreach (var (intent, sql) in queries)
        {
            options.Queries[intent] = new SqlQueryOptions { Sql = sql };
        }

        return options;
    }

    private static SqlPlugin Plugin(SqlPluginOptions options) => new(Microsoft.Extensions.Options.Options.Create(options), NullLogger<SqlPlugin>.Instance);

    private static PluginContext Context(string intent, params (string Name, string Value)[] slots)
    {
        var message = new InboundMessage(ChannelId.From("wechat"), "acct", "m1", "alice", "alice", "订单 10023 到哪了？", CoreHarness.Start);
        return new PluginContext(message, "wechat/acct/alice")
        {
            Intent = new TurnIntent(intent, slots.ToDictionary(s => s.Name, s => s.Value), IntentSource.Rule, 1),
        };
    }

    [Fact]
    public async Task Query_ForItsIntent_PutsTheRowsIntoThePromptCitingTheTable()
    {
        var plugin = Plugin(Options(_file, new Dictionary<string, string> { ["order_status"] = OrderQuery }));

        var result = await plugin.TryHandleAsync(Context("order_status", ("order_id", "10023")), TestContext.Current.CancellationToken);

        Assert.NotNull(result);
        var passage = Assert.Single(result.Passages);
        Assert.Contains("order_id = 10023", passage.Text, StringComparison.Ordinal);
        Assert.Contains("id | customer | status | amount\n10023 | 张三 | 已发货 | 99.5", passage.Text, StringComparison.Ordinal);
        Assert.DoesNotContain("10024", passage.Text, StringComparison.Ordinal);
        Assert.Equal("数据库 orders", passage.Source);
        Assert.Equal(["来源：数据库 orders"], result.Citations);
        Assert.Null(result.Answer);
    }

    [Fact]
    public async Task Query_WithNoMatchingRow_SaysSoRatherThanStayingSilent()
    {
        var plugin = Plugin(Options(_file, new Dictionary<string, string> { ["order_status"] = OrderQuery }));

        var result = await plugin.TryHandleAsync(Context("order_status", ("order_id", "99999")), TestContext.Current.CancellationToken);

        Assert.Contains("没有查到记录", Assert.Single(result!.Passages).Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OtherIntent_NoIntent_OrMissingSlot_ContributesNothing()
    {
        var plugin = Plugin(Options(_file, new Dictionary<string, string> { ["order_status"] = OrderQuery }));
        var plain = new PluginContext(Context("x").Message, "wechat/acct/alice");

        Assert.Null(await plugin.TryHandleAsync(Context("weather", ("order_id", "10023")), TestContext.Current.CancellationToken));
        Assert.Null(await plugin.TryHandleAsync(plain, TestContext.Current.CancellationToken));
        Assert.Null(await plugin.TryHandleAsync(Context("order_status", ("customer", "张三")), TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Rows_PastMaxRowsOrMaxChars_AreLeftOutAndThePassageSaysSo()
    {
        var options = Options(_file, new Dictionary<string, string> { ["all_orders"] = "SELECT id, customer FROM orders ORDER BY id" });
        options.Queries["all_orders"].MaxRows = 2;
        var plugin = Plugin(options);

        var text = Assert.Single((await plugin.TryHandleAsync(Context("all_orders"), TestContext.Current.CancellationToken))!.Passages).Text;

        Assert.Contains("10023 | 张三\n10024 | 李四", text, StringComparison.Ordinal);
        Assert.DoesNotContain("10025", text, StringComparison.Ordinal);
        Assert.Contains("只列出", text, StringComparison.Ordinal);

        options.Queries["all_orders"].MaxRows = 10;
        options.MaxChars = 50;
        var capped = Assert.Single((await Plugin(options).TryHandleAsync(Context("all_orders"), TestContext.Current.CancellationToken))!.Passages).Text;
        Assert.Contains("10023 | 张三\n（结果过长，其余行已省略）", capped, StringComparison.Ordinal);
        Assert.DoesNotContain("10024", capped, StringComparison.Ordinal);
    }

    [Fact]
    public async Task View_ListedWithTheTablesItReads_CanBeQueried()
    {
        var plugin = Plugin(Options(_file, new Dictionary<string, string> { ["open_orders"] = "SELECT id, status FROM open_orders ORDER BY id" }, "orders", "open_orders"));

        var result = await plugin.TryHandleAsync(Context("open_orders"), TestContext.Current.CancellationToken);

        var text = Assert.Single(result!.Passages).Text;
        Assert.Contains("10023 | 已发货\n10024 | 待付款", text, StringComparison.Ordinal);
        Assert.DoesNotContain("10025", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cancellation_InterruptsAQueryInTheMiddleOfItsWork()
    {
        // 3^25 rows to count: hours of work, so the call can only come back if the interrupt stops SQLite mid-step.
        var join = string.Join(", ", Enumerable.Range(0, 25).Select(i => $"orders o{i}"));
        var plugin = Plugin(Options(_file, new Dictionary<string, string> { ["forever"] = $"SELECT count(*) FROM {join}" }));
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => plugin.TryHandleAsync(Context("forever"), cancel.Token));
    }

    public static TheoryData<string, string> Writes => new()
    {
        { "INSERT INTO orders VALUES (1, 'x', 'y', 0)", "INSERT into orders" },
        { "REPLACE INTO orders VALUES (10023, 'x', 'y', 0)", "INSERT into orders" },
        { "UPDATE orders SET status = '已取消'", "UPDATE orders" },
        { "DELETE FROM orders", "DELETE from orders" },
        { "DROP TABLE orders", "change the schema" },
        { "CREATE TABLE stolen AS SELECT * FROM orders", "change the schema" },
        { "ALTER TABLE orders ADD COLUMN x TEXT", "ALTER table" },
        { "ATTACH DATABASE 'other.db' AS other", "ATTACH" },
        { "PRAGMA user_version = 7", "PRAGMA user_version" },
        { "PRAGMA journal_mode = WAL", "PRAGMA journal_mode" },
        { "WITH doomed AS (SELECT id FROM orders) DELETE FROM orders WHERE id IN (SELECT id FROM doomed)", "DELETE from orders" },
        { "WITH x AS (SELECT 1) INSERT INTO orders SELECT 2, 'x', 'y', 0 FROM x", "INSERT into orders" },
        { "SELECT * FROM orders; DROP TABLE orders", "more than one statement" },
        { "SELECT * FROM orders; DELETE FROM orders", "more than one statement" },
        { "SELECT * FROM orders;\nUPDATE orders SET amount = 0", "more than one statement" },
        { "BEGIN IMMEDIATE", "transaction" },
        { "VACUUM", "" },
        { "SELECT * FROM orders WHERE id = ?", "positional parameter" },
    };

    [Theory]
    [MemberData(nameof(Writes))]
    public void Validation_RefusesAWritingQuery_NamingTheKeyAndWhatItWouldDo(string sql, string reason)
    {
        var before = Fingerprint();

        var result = new SqlPluginValidator().Validate(null, Options(_file, new Dictionary<string, string> { ["evil"] = sql }));

        Assert.True(result.Failed, sql);
        var message = Assert.Single(result.Failures!);
        Assert.Contains("Plugins:Sql:Queries:evil:Sql", message, StringComparison.Ordinal);
        Assert.Contains("WESEEK__Plugins__Sql__Queries__evil__Sql", message, StringComparison.Ordinal);
        Assert.Contains(reason, message, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(before, Fingerprint());
    }

    [Theory]
    [MemberData(nameof(Writes))]
    public async Task RunTime_RefusesAWritingQueryThatSkippedValidation_AndTheFileIsUnchanged(string sql, string reason)
    {
        var before = Fingerprint();
        var plugin = Plugin(Options(_file, new Dictionary<string, string> { ["evil"] = sql }));

        var refused = await Assert.ThrowsAsync<SqlRefusedException>(() => plugin.TryHandleAsync(Context("evil", ("order_id", "1")), TestContext.Current.CancellationToken));

        Assert.Contains(reason, refused.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(before, Fingerprint());
    }

    public static TheoryData<string, string> HiddenReads => new()
    {
        { "SELECT * FROM secrets", "table secrets" },
        { "SELECT count(*) FROM secrets", "table secrets" },
        { "SELECT count(*) FROM orders, secrets", "table secrets" },
        { "SELECT EXISTS (SELECT 1 FROM secrets WHERE token LIKE 'tok%') FROM orders", "table secrets" },
        { "SELECT id FROM orders WHERE id IN (SELECT id FROM secrets)", "table secrets" },
        { "SELECT id, (SELECT token FROM secrets LIMIT 1) FROM orders", "table secrets" },
        { "SELECT o.id FROM orders o JOIN secrets s ON s.id = 1", "table secrets" },
        { "SELECT id FROM orders UNION ALL SELECT token FROM secrets", "table secrets" },
        { "WITH orders AS (SELECT token AS id FROM secrets) SELECT id FROM orders", "table secrets" },
        { "SELECT * FROM order_tokens", "through order_tokens" },
        { "SELECT * FROM open_orders", "through view open_orders" },
        { "SELECT name, sql FROM sqlite_master", "table sqlite_master" },
        { "SELECT name FROM sqlite_schema", "sqlite_" },
        { "SELECT * FROM pragma_table_info('secrets')", "" },
        { "SELECT * FROM temp.sqlite_temp_master", "" },
        { "SELECT load_extension('evil.so') FROM orders", "load_extension" },
        { "SELECT length(randomblob(1000000000)) FROM orders", "randomblob" },
        { "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n) SELECT x FROM n, orders", "recursive" },
    };

    [Theory]
    [MemberData(nameof(HiddenReads))]
    public async Task TableNotAllowed_IsRefusedAtValidationAndAtRunTime_HoweverItIsReached(string sql, string reason)
    {
        var options = Options(_file, new Dictionary<string, string> { ["peek"] = sql }, "orders", "order_tokens");

        var validation = new SqlPluginValidator().Validate(null, options);
        var refused = await Assert.ThrowsAsync<SqlRefusedException>(() => Plugin(options).TryHandleAsync(Context("peek"), TestContext.Current.CancellationToken));

        Assert.True(validation.Failed, sql);
        Assert.Contains(reason, Assert.Single(validation.Failures!), StringComparison.OrdinalIgnoreCase);
        Assert.Contains(reason, refused.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData("order_status", "order_id", "1; DROP TABLE orders")]
    [InlineData("order_status", "order_id", "10023; DELETE FROM orders; --")]
    [InlineData("order_status", "order_id", "10023 OR 1=1")]
    [InlineData("order_status", "order_id", "' OR 1=1 --")]
    [InlineData("order_status", "order_id", "0 UNION SELECT id, token, token, 0 FROM secrets")]
    [InlineData("by_customer", "customer", "' OR '1'='1")]
    [InlineData("by_customer", "customer", "张三' OR 1=1 --")]
    [InlineData("by_customer", "customer", "x'); DROP TABLE orders; --")]
    public async Task InjectionThroughASlot_IsOnlyEverAValue_NoExtraRowsAndNothingChanges(string intent, string slot, string value)
    {
        var before = Fingerprint();
        var plugin = Plugin(Options(_file, new Dictionary<string, string>
        {
            ["order_status"] = OrderQuery,
            ["by_customer"] = "SELECT id, customer, status FROM orders WHERE customer = @customer",
        }));

        var result = await plugin.TryHandleAsync(Context(intent, (slot, value)), TestContext.Current.CancellationToken);

        var text = Assert.Single(result!.Passages).Text;
        Assert.Contains("没有查到记录", text, StringComparison.Ordinal);
        Assert.DoesNotContain("tok-hidden-41", text, StringComparison.Ordinal);
        Assert.Equal(before, Fingerprint());
        Assert.NotNull(Assert.Single((await plugin.TryHandleAsync(Context("order_status", ("order_id", "10024")), TestContext.Current.CancellationToken))!.Passages));
    }

    [Fact]
    public void Validation_ReadOnlyQueriesOverAllowedTables_Pass()
    {
        var result = new SqlPluginValidator().Validate(null, Options(_file, new Dictionary<string, string>
        {
            ["order_status"] = OrderQuery,
            ["totals"] = "-- totals by status\nSELECT status, count(*) AS n, round(sum(amount), 2) AS total FROM orders GROUP BY status; -- done",
            ["open"] = "WITH o AS (SELECT id FROM open_orders) SELECT o.id, upper(orders.customer) FROM o JOIN orders ON orders.id = o.id",
        }, "orders", "open_orders"));

        Assert.True(result.Succeeded, string.Join("\n", result.Failures ?? []));
    }

    [Fact]
    public void Validation_DatabaseThatCannotBeOpened_NamesTheConnectionString()
    {
        var result = new SqlPluginValidator().Validate(null, Options(Path.Combine(_directory.Path, "missing.db"), new Dictionary<string, string> { ["order_status"] = OrderQuery }));

        Assert.True(result.Failed);
        Assert.Contains("Plugins:Sql:ConnectionString", Assert.Single(result.Failures!), StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_directory.Path, "missing.db")));
    }

    [Fact]
    public async Task AddSqlPlugin_FromConfiguration_RegistersPluginSql_AndARefusedQueryFailsValidationOnStart()
    {
        var good = new Dictionary<string, string?>
        {
            ["Plugins:Sql:ConnectionString"] = $"Data Source={_file}",
            ["Plugins:Sql:Tables:0"] = "orders",
            ["Plugins:Sql:Queries:order_status:Sql"] = OrderQuery,
        };
        await using (var harness = await CoreHarness.CreateAsync(settings: good, configure: services => new Builder(services, good).AddSqlPlugin()))
        {
            Assert.True(new ConfigurationBuilder().AddInMemoryCollection(good).Build().HasSqlPlugin());
            Assert.Contains(harness.Services.GetServices<IWeSeekPlugin>(), p => p.Name == "sql");
            Assert.Equal(OrderQuery, harness.Services.GetRequiredService<IOptions<SqlPluginOptions>>().Value.Queries["ORDER_STATUS"].Sql);
        }

        var bad = new Dictionary<string, string?>(good) { ["Plugins:Sql:Queries:wipe:Sql"] = "DELETE FROM orders" };
        await using var refused = await CoreHarness.CreateAsync(settings: bad, configure: services => new Builder(services, bad).AddSqlPlugin());
        var error = Assert.Throws<OptionsValidationException>(() => refused.Services.GetRequiredService<IOptions<SqlPluginOptions>>().Value);
        Assert.Contains("Plugins:Sql:Queries:wipe:Sql", error.Message, StringComparison.Ordinal);
        Assert.Contains("DELETE from orders", error.Message, StringComparison.Ordinal);
        Assert.False(new ConfigurationBuilder().Build().HasSqlPlugin());
    }

    private sealed class Builder(IServiceCollection services, IDictionary<string, string?> settings) : IWeSeekBuilder
    {
        public IServiceCollection Services { get; } = services;

        public IConfiguration Configuration { get; } = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
    }
}
