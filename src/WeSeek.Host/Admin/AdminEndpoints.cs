using System.Security.Claims;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using WeSeek.Composition;
using WeSeek.Operations;
using WeSeek.Plugins;
using WeSeek.Security;

namespace WeSeek.Host.Admin;

/// <summary>
/// The admin API under <c>/admin/api</c> and the console page at <c>/admin</c>: status and queue depths, plugins
/// per chat, keys, the audit chain. Every API call needs an admin key (unless <c>Admin:RequireKey</c> is off),
/// and every call that changes something is appended to the audit log with the key's name.
/// </summary>
internal static class AdminEndpoints
{
    private const string PageResource = "WeSeek.Host.Admin.admin.html";

    /// <summary>Authentication and the <c>admin</c> policy.</summary>
    public static IServiceCollection AddAdmin(this IServiceCollection services)
    {
        services.AddAuthentication().AddScheme<AuthenticationSchemeOptions, AdminKeyAuthentication>(AdminKeyAuthentication.SchemeName, null);
        services.AddAuthorizationBuilder().AddPolicy(AdminKeyAuthentication.Policy, policy => policy
            .AddAuthenticationSchemes(AdminKeyAuthentication.SchemeName)
            .RequireAssertion(context =>
                context.User.Identity?.AuthenticationType == AdminKeyAuthentication.SchemeName
                || context.Resource is HttpContext http && !http.RequestServices.GetRequiredService<IOptions<AdminOptions>>().Value.RequireKey));
        return services;
    }

    /// <summary>A route group whose endpoints need an admin key and whose changes are audited.</summary>
    public static RouteGroupBuilder MapAdminGroup(this IEndpointRouteBuilder endpoints, string prefix) =>
        endpoints.MapGroup(prefix).RequireAuthorization(AdminKeyAuthentication.Policy).AddEndpointFilter(AuditChangesAsync);

    /// <summary>Maps the console page and the admin API.</summary>
    public static void MapAdmin(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/admin", () => TypedResults.Stream(
            typeof(AdminEndpoints).Assembly.GetManifestResourceStream(PageResource) ?? throw new InvalidOperationException($"The console page ({PageResource}) is missing from the build."),
            "text/html; charset=utf-8"));

        var api = endpoints.MapAdminGroup("/admin/api");
        api.MapGet("/status", StatusAsync);
        api.MapGet("/keys", async (AdminKeys keys, CancellationToken cancellationToken) => TypedResults.Ok(await keys.ListAsync(cancellationToken)));
        api.MapGet("/audit/verify", async (AuditLog audit, CancellationToken cancellationToken) => TypedResults.Ok(await audit.VerifyAsync(cancellationToken)));
        api.MapGet("/plugins", PluginsAsync);
        api.MapPut("/plugins/{name}", SetPluginAsync);
    }

    private static async Task<IResult> StatusAsync(ChannelRegistry channels, QueueDepths queues, IOperatorNotices notices, CancellationToken cancellationToken) =>
        TypedResults.Ok(new
        {
            channels = channels.All.Select(c => c.Id.ToString()).Order(StringComparer.Ordinal),
            queues = await queues.RefreshAsync(cancellationToken),
            notices = notices.Current,
        });

    private static async Task<IResult> PluginsAsync(string? chat, PluginCatalog catalog, PluginSettingsStore settings, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(chat))
        {
            return TypedResults.Problem(detail: "Name the chat: ?chat=<channel>/<account>/<chat id>, e.g. webchat/local/alice.", statusCode: StatusCodes.Status400BadRequest);
        }

        var states = await settings.GetAsync(chat, catalog.Plugins, cancellationToken);
        return TypedResults.Ok(catalog.Plugins.Select(p => new { name = p.Name, description = p.Description, enabled = states[p.Name] }));
    }

    private static async Task<IResult> SetPluginAsync(string name, string? chat, bool? enabled, PluginCatalog catalog, PluginSettingsStore settings, CancellationToken cancellationToken)
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
        if (!HttpMethods.IsGet(http.Request.Method) && !HttpMethods.IsHead(http.Request.Method))
        {
            // After the action: an action that threw changed nothing worth recording, and the record says what was done.
            await http.RequestServices.GetRequiredService<AuditLog>().AppendAsync("admin.action", new JsonObject
            {
                ["method"] = http.Request.Method,
                ["path"] = http.Request.Path.Value,
                ["query"] = http.Request.QueryString.Value,
                ["key"] = http.User.FindFirstValue(ClaimTypes.Name),
                ["address"] = http.Connection.RemoteIpAddress?.ToString(),
            }, http.RequestAborted);
        }

        return result;
    }
}
