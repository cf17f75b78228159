using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using WeSeek.Channels.ILink;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps the iLink login for the web console.</summary>
public static class ILinkEndpoints
{
    /// <summary>Maps <c>/api/ilink/login</c>: <c>POST</c> starts a QR login (202), <c>GET</c> says where it is,
    /// <c>GET qr.png</c> is the code to scan (404 when none is on display). Whoever can reach these can bind
    /// a WeChat account to this bot: keep the host on loopback or behind the console's authentication.</summary>
    public static IEndpointRouteBuilder MapILink(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var api = endpoints.MapGroup("/api/ilink/login");
        api.MapPost("", (ILinkWebLogin login) =>
        {
            login.Start();
            return TypedResults.Accepted("/api/ilink/login", new { status = login.Status.ToString() });
        });
        api.MapGet("", (ILinkWebLogin login) => TypedResults.Ok(new { status = login.Status.ToString() }));
        api.MapGet("/qr.png", (ILinkWebLogin login) =>
            login.QrPng() is { } png ? Results.File(png, "image/png") : Results.NotFound());
        return endpoints;
    }
}
