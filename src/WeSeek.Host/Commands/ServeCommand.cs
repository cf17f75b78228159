using System.CommandLine;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using WeSeek.Configuration;
using WeSeek.Health;
using WeSeek.Host.Access;
using WeSeek.Host.Admin;

namespace WeSeek.Host.Commands;

/// <summary><c>weseek serve</c>: the web host, the dispatcher, the outbox and every configured channel.</summary>
internal static partial class ServeCommand
{
    /// <summary>Where the web host listens unless told otherwise: loopback only, so a fresh install is not
    /// reachable from the network until the operator decides it should be.</summary>
    public const string DefaultUrls = "http://127.0.0.1:5000";

    public static Command Create()
    {
        var urls = new Option<string?>("--urls") { Description = $"Addresses to listen on, separated by ';' (default {DefaultUrls})." };
        var model = HostComposition.ModelOption();
        var command = new Command("serve", "Run the bot: web chat, WeChat channels, turn dispatcher and outbox.")
        {
            urls,
            model,
        };
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction((result, cancellationToken) =>
        {
            var args = result.UnmatchedTokens.Concat(HostComposition.ModelArgs(result.GetValue(model))).ToList();
            if (result.GetValue(urls) is { } value)
            {
                args.Add("--urls=" + value);
            }

            return RunAsync([.. args], cancellationToken);
        });
        return command;
    }

    public static async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        try
        {
            await using var app = Build(args);
            Log.DataDirectory(app.Logger, app.Configuration["Storage:DataDirectory"] ?? "", DataLocation.HomeVariable);
            await app.RunAsync();
            return 0;
        }
        catch (Exception ex) when (HostComposition.TryReportConfigurationError(ex))
        {
            return 2;
        }
    }

    /// <summary>Builds the web application. Tests pass <paramref name="configureServices"/> to replace a part
    /// (the engine) after the host registered its own.</summary>
    public static WebApplication Build(string[] args, Action<IServiceCollection>? configureServices = null)
    {
        var builder = HostComposition.CreateWebBuilder(args, DefaultUrls);
        builder.AddWeSeekServices().AddWebChat().AddWeChatChannels();
        builder.Services.AddSection<AccessOptions>(builder.Configuration, "Access");
        builder.Services.AddSection<AdminOptions>(builder.Configuration, "Admin");
        builder.Services.AddAdmin();
        configureServices?.Invoke(builder.Services);

        var app = builder.Build();
        app.UseMiddleware<BrowserHardeningMiddleware>();
        app.UseMiddleware<AccessControlMiddleware>();
        app.UseAuthentication();
        app.UseAuthorization();
        // live: the process answers (no checks run); ready: storage answers and the engine is loaded/reachable.
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false });
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = check => check.Tags.Contains(HealthTags.Ready) });
        // channels: each platform connection (OneBot's implementation); outside readiness on purpose.
        app.MapHealthChecks("/health/channels", new HealthCheckOptions { Predicate = check => check.Tags.Contains(WeSeek.Channels.ChannelHealth.Tag) });
        app.MapPrometheusScrapingEndpoint("/metrics");
        app.MapWebChat();
        app.MapAdmin();
        app.MapWeChatChannels();
        return app;
    }

    private static partial class Log
    {
        [LoggerMessage(WeSeek.Logging.WeSeekEventId.DataDirectory, LogLevel.Information, "WeSeek keeps its data in {Directory} (--data DIR or {Variable} names another)")]
        public static partial void DataDirectory(ILogger logger, string directory, string variable);
    }
}
