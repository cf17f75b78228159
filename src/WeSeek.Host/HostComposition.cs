using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using WeSeek.Host.Admin;
using WeSeek.Inference;

namespace WeSeek.Host;

/// <summary>The one composition root, shared by the verbs: what runs is decided here and only here.</summary>
internal static class HostComposition
{
    /// <summary>
    /// The builder of every verb that does not serve HTTP (<c>chat</c>, <c>login</c>, <c>kb</c>, <c>admin</c>,
    /// <c>logs</c>, <c>audit</c>, <c>feedback</c>, <c>db</c>, <c>model</c>): the configuration of
    /// <see cref="CreateWebBuilder"/>, and logs that stay out of the verb's output: warnings and errors only, all
    /// on stderr, because stdout is the conversation, the QR code, the key or the export.
    /// </summary>
    public static HostApplicationBuilder CreateBuilder(string[] args)
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            Args = args,
            // appsettings.json ships beside the executable; the data directory does not follow the working directory.
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.AddWeSeekConfiguration(args);
        // Set through configuration, added last, because appsettings.json's categories would override a minimum level.
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Logging:LogLevel:Default"] = "Warning",
            ["Logging:LogLevel:Microsoft"] = "Warning",
            ["Logging:LogLevel:Microsoft.Hosting.Lifetime"] = "Warning",
        });
        builder.Logging.AddConsole(console => console.LogToStandardErrorThreshold = LogLevel.Trace);
        return builder;
    }

    /// <summary>The builder of the verbs that serve HTTP (<c>serve</c>, <c>model serve</c>): the same configuration
    /// as <see cref="CreateBuilder"/>, the logging appsettings.json sets, listening on <paramref name="defaultUrls"/>
    /// unless <c>--urls</c> or <c>ASPNETCORE_URLS</c> names other addresses.</summary>
    public static WebApplicationBuilder CreateWebBuilder(string[] args, string defaultUrls)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        builder.AddWeSeekConfiguration(args);
        if (string.IsNullOrEmpty(builder.Configuration["urls"]) && string.IsNullOrEmpty(builder.Configuration["ASPNETCORE_URLS"]))
        {
            builder.WebHost.UseUrls(defaultUrls);
        }

        return builder;
    }

    /// <summary>
    /// Builds a verb's host and validates now every option registered to be validated on start, so that a verb
    /// that never starts its host (<c>kb</c>, <c>admin</c>, <c>model list</c>) refuses a bad key, naming it, before
    /// it reads or writes anything. The caller disposes the host (<c>await using</c>).
    /// </summary>
    public static async Task<VerbHost> BuildHostAsync(this HostApplicationBuilder builder)
    {
        var host = new VerbHost(builder.Build());
        try
        {
            host.Services.GetService<IStartupValidator>()?.Validate();
            return host;
        }
        catch
        {
            // What validation opened (the key ring, the database) is released before the error is reported.
            await host.DisposeAsync();
            throw;
        }
    }

    /// <summary>Configuration sources, later wins: appsettings.json, appsettings.{Environment}.json,
    /// environment variables (<c>WESEEK__Outbox__DailyCap</c>), then command-line flags
    /// (<c>--Outbox:DailyCap=100</c>). A value under a WeSeek section that its option cannot hold stops the verb
    /// here, before anything binds it (<see cref="SettingValues"/>).</summary>
    private static void AddWeSeekConfiguration(this IHostApplicationBuilder builder, string[] args)
    {
        builder.Configuration.AddEnvironmentVariables("WESEEK__");
        builder.Configuration.AddCommandLine(args);
        DataLocation.Apply(builder.Configuration);
        SettingValues.Check(builder.Configuration);
        // The generic host logs a failed start ("Hosting failed to start") with the whole stack trace before the
        // exception reaches the verb, which reports a configuration error in one line (and lets any other
        // exception through). A background service that stops the host is still logged: that is Critical.
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.Critical);
    }

    /// <summary>The <c>--model &lt;file.gguf&gt;</c> flag of serve and chat: the embedded engine on that file.</summary>
    public static System.CommandLine.Option<string?> ModelOption() =>
        new("--model") { Description = "A GGUF file to run in the embedded engine (sets Model:Provider=llama and Model:Llama:ModelPath)." };

    /// <summary>Configuration flags for a <c>--model</c> value, if given.</summary>
    public static IEnumerable<string> ModelArgs(string? model) =>
        string.IsNullOrEmpty(model) ? [] : ["--Model:Provider=llama", "--Model:Llama:ModelPath=" + model];

    /// <summary>The core, the configured engine, and health checks.</summary>
    public static IWeSeekBuilder AddWeSeekServices(this IHostApplicationBuilder builder)
    {
        // First of the hosted services: unknown keys are reported (or, strict, refused) before anything runs.
        builder.Services.Insert(0, ServiceDescriptor.Singleton<IHostedService, UnknownSettings>());
        var weseek = builder.Services.AddWeSeek(builder.Configuration);
        var provider = builder.Configuration["Model:Provider"] ?? new ModelOptions().Provider;
        if (string.Equals(provider, "remote", StringComparison.OrdinalIgnoreCase))
        {
            weseek.AddRemoteEngine();
        }
        else if (string.Equals(provider, "llama", StringComparison.OrdinalIgnoreCase))
        {
            weseek.AddLlamaEngine();
        }

        // An unknown provider is reported by ModelOptions' validation at start-up, naming the key.
        // The knowledge base contributes nothing until documents are added (weseek kb add).
        weseek.AddKnowledgeBase();
        weseek.AddConfiguredPlugins();
        builder.Services.AddHealthChecks();
        builder.AddWeSeekMetrics();
        return weseek;
    }

    /// <summary>The built-in plugins that need a configuration, each only when its section has one: <c>sql</c>
    /// when <c>Plugins:Sql:Queries</c> names a query, <c>http</c> when <c>Plugins:Http:Endpoints</c> names an
    /// endpoint.</summary>
    public static IWeSeekBuilder AddConfiguredPlugins(this IWeSeekBuilder weseek)
    {
        if (weseek.Configuration.HasSqlPlugin())
        {
            weseek.AddSqlPlugin();
        }

        if (weseek.Configuration.HasHttpPlugin())
        {
            weseek.AddHttpPlugin();
        }

        return weseek;
    }

    /// <summary>
    /// The one <c>WeSeek</c> meter (and ASP.NET Core's), exported in Prometheus format at <c>/metrics</c> by the
    /// host's <c>MapPrometheusScrapingEndpoint</c>; and, when an OTLP endpoint is configured
    /// (<c>OTEL_EXPORTER_OTLP_ENDPOINT</c>, e.g. a Jaeger or Tempo collector), traces that follow each message from
    /// the request that delivered it through its turn and model call to every send.
    /// </summary>
    public static void AddWeSeekMetrics(this IHostApplicationBuilder builder)
    {
        // service.name (Prometheus: target_info's service_name, the traces' service) names the product, not
        // the SDK's "unknown_service:weseek".
        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService("weseek", serviceVersion: typeof(HostComposition).Assembly.GetName().Version?.ToString()))
            .WithMetrics(metrics => metrics
            .AddMeter("WeSeek")
            .AddMeter("Microsoft.AspNetCore.Hosting")
            .AddRuntimeInstrumentation()
            .AddProcessInstrumentation()
            .AddPrometheusExporter());
        if (Uri.TryCreate(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"], UriKind.Absolute, out var endpoint))
        {
            telemetry.WithTracing(tracing => tracing
                .AddSource("WeSeek")
                .AddSource("Microsoft.AspNetCore")
                .AddOtlpExporter(otlp => otlp.Endpoint = endpoint));
        }
    }

    /// <summary>The WeChat channels whose sections name accounts (<c>OfficialAccount:Accounts</c>, <c>WeCom:Apps</c>) or are
    /// enabled (<c>ILink:Enabled</c>, <c>OneBot:Enabled</c>); nothing otherwise, so a plain <c>weseek serve</c> runs the web chat alone.</summary>
    public static IWeSeekBuilder AddWeChatChannels(this IWeSeekBuilder weseek)
    {
        if (weseek.Configuration.HasOfficialAccounts())
        {
            weseek.AddOfficialAccount();
        }

        if (weseek.Configuration.HasILink())
        {
            weseek.AddILink();
        }

        if (weseek.Configuration.HasWeComApps())
        {
            weseek.AddWeCom();
        }

        if (weseek.Configuration.HasOneBot())
        {
            weseek.AddOneBot();
        }

        return weseek;
    }

    /// <summary>Maps the callbacks of the channels <see cref="AddWeChatChannels"/> added.</summary>
    public static void MapWeChatChannels(this WebApplication app)
    {
        if (app.Configuration.HasOfficialAccounts())
        {
            app.MapOfficialAccount();
        }

        if (app.Configuration.HasILink())
        {
            // Whoever can start a login can bind a WeChat account to the bot: an operator's action, audited.
            app.MapAdminGroup("").RequireRole(WeSeek.Security.AdminRole.Operator).MapILink();
        }

        if (app.Configuration.HasWeComApps())
        {
            app.MapWeCom();
        }

        if (app.Configuration.HasOneBot())
        {
            app.MapOneBot();
        }
    }

    /// <summary>
    /// Prints a configuration error the way an operator needs it, one line each (the key, the environment
    /// variable, what is wrong), instead of a stack trace. Returns false for other exceptions.
    /// </summary>
    public static bool TryReportConfigurationError(Exception exception)
    {
        var lines = ConfigurationErrorLines(exception);
        if (lines is null)
        {
            return false;
        }

        foreach (var line in lines)
        {
            Console.Error.WriteLine(line);
        }

        return true;
    }

    /// <summary>The lines <see cref="TryReportConfigurationError"/> prints, or null for an exception that is not
    /// a configuration error.</summary>
    internal static IReadOnlyList<string>? ConfigurationErrorLines(Exception exception)
    {
        switch (exception)
        {
            case AggregateException aggregate when aggregate.InnerExceptions.Count > 0 && aggregate.InnerExceptions.All(e => ConfigurationErrorLines(e) is not null):
                // Start-up validation reports every invalid section at once.
                return [.. aggregate.InnerExceptions.SelectMany(e => ConfigurationErrorLines(e)!).Distinct(StringComparer.Ordinal)];
            case OptionsValidationException validation:
                return [.. validation.Failures.Select(failure => "WeSeek cannot start: " + failure)];
            case IOException { InnerException: Microsoft.AspNetCore.Connections.AddressInUseException }:
                // Kestrel: "Failed to bind to address http://127.0.0.1:5000: address already in use."
                return [$"WeSeek cannot start: {exception.Message.TrimEnd('.')}; another program listens there. Choose another address with --urls (environment variable ASPNETCORE_URLS)."];
            case WeSeek.Storage.StorageStartupException storage:
                // A wrong connection string, an unreachable or read-only database, a schema from another build.
                return ["WeSeek cannot start: " + storage.Message];
            case WeSeek.Inference.Llama.Engine.LlamaEngineException engine:
                return ["WeSeek cannot start the embedded engine: " + engine.Message];
            default:
                return null;
        }
    }

    /// <summary>The environment variable that sets a configuration key: <c>Outbox:DailyCap</c> is
    /// <c>WESEEK__Outbox__DailyCap</c>.</summary>
    internal static string EnvironmentVariable(string key) => "WESEEK__" + key.Replace(":", "__", StringComparison.Ordinal);
}
