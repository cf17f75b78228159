using System.Security.Claims;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using WeSeek.Hosting;
using WeSeek.Operations;
using WeSeek.Plugins;
using WeSeek.Security;
using WeSeek.Storage.Sql;

namespace WeSeek.Host.Admin;

/// <summary>
/// The admin API under <c>/admin/api</c> and the console page at <c>/admin</c>. Every API call needs an admin key
/// (unless <c>Admin:RequireKey</c> is off), and every call that changes something is appended to the audit log
/// with the key's name. Keys have roles: a viewer sees status, charts, lists and settings; an operator also reads
/// transcripts (each read audited) and changes chats, documents and channels; an admin also manages keys.
/// </summary>
internal static partial class AdminEndpoints
{
    private const string PageResource = "WeSeek.Host.Admin.admin.html";

    // The vendored chart library (Admin/assets/uplot/README.md), served from this origin: the page's
    // Content-Security-Policy admits scripts from here only, and nothing is fetched from a CDN.
    private static readonly Dictionary<string, (string Resource, string ContentType)> Assets = new(StringComparer.Ordinal)
    {
        ["uplot.js"] = ("WeSeek.Host.Admin.assets.uplot.js", "text/javascript; charset=utf-8"),
        ["uplot.css"] = ("WeSeek.Host.Admin.assets.uplot.css", "text/css; charset=utf-8"),
    };

    /// <summary>Authentication and the <c>admin</c> policy.</summary>
    public static IServiceCollection AddAdmin(this IServiceCollection services)
    {
        services.AddAuthentication().AddScheme<AuthenticationSchemeOptions, AdminKeyAuthentication>(AdminKeyAuthentication.SchemeName, null);
        services.AddAuthorizationBuilder().AddPolicy(AdminKeyAuthentication.Policy, policy => policy
            .AddAuthenticationSchemes(AdminKeyAuthentication.SchemeName)
            .RequireAssertion(context =>
                context.User.Identity?.AuthenticationType == AdminKeyAuthentication.SchemeName
                || context.Resource is HttpContext http && !http.RequestServices.GetRequiredService<IOptions<AdminOptions>>().Value.RequireKey));
        services.AddSingleton<ConsoleQueries>();
        services.AddSingleton<TranscriptSearch>();
        services.AddHttpClient();
        services.AddSingleton<ConsoleModelPull>();
        return services;
    }

    /// <summary>A route group whose endpoints need an admin key and whose changes are audited.</summary>
    public static RouteGroupBuilder MapAdminGroup(this IEndpointRouteBuilder endpoints, string prefix) =>
        endpoints.MapGroup(prefix).RequireAuthorization(AdminKeyAuthentication.Policy).AddEndpointFilter(AuditChangesAsync);

    /// <summary>Refuses callers whose key's role is below <paramref name="role"/> with 403 and what they may do
    /// instead, before the endpoint runs.</summary>
    public static TBuilder RequireRole<TBuilder>(this TBuilder builder, AdminRole role)
        where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter(async (context, next) =>
        {
            var caller = RoleOf(context.HttpContext);
            if (caller < role)
            {
                Log.RoleRefused(context.HttpContext.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(AdminEndpoints)),
                    context.HttpContext.Request.Path, KeyName(context.HttpContext), caller.Name(), role.Name());
            }

            return caller >= role
                ? await next(context)
                : TypedResults.Problem(
                    title: "Not allowed for this key's role",
                    detail: $"This key is a {caller.Name()} key; this needs an {role.Name()} key (or an admin key). " +
                            "An admin can create one under 密钥与审计 Keys and audit, or with `weseek admin key create --name <who> --role " + role.Name() + "`.",
                    statusCode: StatusCodes.Status403Forbidden);
        });

    /// <summary>The caller's role: the key's, or admin when <c>Admin:RequireKey</c> is off (the allow-list alone decides).</summary>
    public static AdminRole RoleOf(HttpContext http) =>
        http.User.Identity?.AuthenticationType == AdminKeyAuthentication.SchemeName
            ? AdminRoles.TryParse(http.User.FindFirstValue(ClaimTypes.Role), out var role) ? role : AdminRole.Viewer
            : AdminRole.Admin;

    /// <summary>The caller's key name for the audit log, or null without a key.</summary>
    public static string? KeyName(HttpContext http) => http.User.FindFirstValue(ClaimTypes.Name);

    /// <summary>Maps the console page, its assets and the admin API.</summary>
    public static void MapAdmin(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/admin", () => TypedResults.Stream(
            typeof(AdminEndpoints).Assembly.GetManifestResourceStream(PageResource) ?? throw new InvalidOperationException($"The console page ({PageResource}) is missing from the build."),
            "text/html; charset=utf-8"));
        endpoints.MapGet("/admin/assets/{name}", Results<FileStreamHttpResult, NotFound> (string name, HttpContext http) =>
        {
            if (!Assets.TryGetValue(name, out var asset))
            {
                return TypedResults.NotFound();
            }

            http.Response.Headers.CacheControl = "public, max-age=86400";
            return TypedResults.Stream(typeof(AdminEndpoints).Assembly.GetManifestResourceStream(asset.Resource)
                ?? throw new InvalidOperationException($"The console asset {asset.Resource} is missing from the build."), asset.ContentType);
        });

        var api = endpoints.MapAdminGroup("/admin/api");
        api.MapGet("/me", (HttpContext http) => TypedResults.Ok(new { name = KeyName(http), role = RoleOf(http).Name() }));
        api.MapGet("/status", StatusAsync);
        api.MapGet("/audit/verify", async (AuditLog audit, CancellationToken cancellationToken) => TypedResults.Ok(await audit.VerifyAsync(cancellationToken)));
        api.MapGet("/plugins", PluginsAsync);
        api.MapPut("/plugins/{name}", SetPluginAsync).RequireRole(AdminRole.Operator);
        MapOverview(api);
        MapConversations(api);
        MapKeysAndAudit(api);
        MapKnowledge(api);
        MapModeration(api);
        MapSettings(api);
        MapChannels(api);
        MapModel(api);
    }

    private static async Task<IResult> StatusAsync(ChannelRegistry channels, QueueDepths queues, IOperatorNotices notices, CancellationToken cancellationToken) =>
        TypedResults.Ok(new
        {
            channels = channels.All.Select(c => c.Id.ToString()).Order(StringComparer.Ordinal),
            queues = await queues.RefreshAsync(cancellationToken),
            notices = notices.Current,
        });

    private static async Task<IResult> PluginsAsync(string? chat, PluginCatalog catalog, IPluginSettingsStore settings, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(chat))
        {
            return TypedResults.Problem(detail: "Name the chat: ?chat=<channel>/<account>/<chat id>, e.g. webchat/local/alice.", statusCode: StatusCodes.Status400BadRequest);
        }

        var states = await settings.GetAsync(chat, catalog.Plugins, cancellationToken);
        return TypedResults.Ok(catalog.Plugins.Select(p => new { name = p.Name, description = p.Description, enabled = states[p.Name] }));
    }

    private static async Task<IResult> SetPluginAsync(string name, string? chat, bool? enabled, PluginCatalog catalog, IPluginSettingsStore settings, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(chat) || enabled is null)
        {
            return TypedResults.Problem(detail: "Send ?chat=<channel>/<account>/<chat id>&enabled=true|false.", statusCode: StatusCodes.Status400BadRequest);
        }

        if (catalog.Find(name) is not { } plugin)
        {
            return TypedResults.Problem(detail: $"No plugin is called '{name}'. Installed: {string.Join(", ", catalog.Plugins.Select(p => p.Name))}.", statusCode: StatusCodes.Status404NotFound);
        }

        await settings.SetAsync(chat, plugin.Name, enabled.Value, cancellationToken);
        return TypedResults.Ok(new { name = plugin.Name, chat, enabled });
    }

    private static async ValueTask<object?> AuditChangesAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var result = await next(context);
        var http = context.HttpContext;
        // After the action, and only when it succeeded: an action that threw or was refused changed nothing, and
        // the record says what was done.
        var refused = result is IStatusCodeHttpResult { StatusCode: >= 400 };
        if (!HttpMethods.IsGet(http.Request.Method) && !HttpMethods.IsHead(http.Request.Method) && !refused)
        {
            await http.RequestServices.GetRequiredService<AuditLog>().AppendAsync("admin.action", new JsonObject
            {
                ["method"] = http.Request.Method,
                ["path"] = http.Request.Path.Value,
                ["query"] = http.Request.QueryString.Value,
                ["key"] = KeyName(http),
                ["address"] = http.Connection.RemoteIpAddress?.ToString(),
            }, http.RequestAborted);
        }

        return result;
    }

    private static partial class Log
    {
        [LoggerMessage(WeSeek.Logging.WeSeekEventId.AdminRoleRefused, LogLevel.Warning, "Admin request to {Path} refused: key {Key} is a {Role} key and this needs {Needed}")]
        public static partial void RoleRefused(ILogger logger, PathString path, string? key, string role, string needed);

        [LoggerMessage(WeSeek.Logging.WeSeekEventId.ConsoleUploadRefused, LogLevel.Warning, "Knowledge-base upload {Document} refused: {Reason}")]
        public static partial void UploadRefused(ILogger logger, string document, string reason);

        [LoggerMessage(WeSeek.Logging.WeSeekEventId.ConsoleDocumentChanged, LogLevel.Information, "Knowledge base changed from the console by key {Key}: {Document} {Outcome}")]
        public static partial void DocumentChanged(ILogger logger, string? key, string document, string outcome);
    }
}
