using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WeSeek;
using WeSeek.Channels.ILink;
using WeSeek.Messaging;
using WeSeek.Operations;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the iLink (personal WeChat) channel and its QR login.</summary>
public static class ILinkChannelServiceCollectionExtensions
{
    /// <summary>True when <c>ILink:Enabled</c> is true.</summary>
    public static bool HasILink(this IConfiguration configuration) =>
        configuration.GetValue<bool>("ILink:Enabled");

    /// <summary>Adds the channel <c>ilink:{ILink:Account}</c>. It needs the core's
    /// <see cref="IChannelStateStore"/>, <see cref="IChannelLease"/> and <see cref="IOperatorNotices"/>.</summary>
    public static IWeSeekBuilder AddILink(this IWeSeekBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddILinkLogin(builder.Configuration);
        builder.Services.AddMetrics();
        builder.Services.TryAddSingleton<ILinkMetrics>();
        builder.Services.TryAddSingleton<ReplyInstruments>();
        builder.Services.TryAddSingleton(sp => new ILinkChannel(
            sp.GetRequiredService<IOptions<ILinkOptions>>().Value, sp.GetRequiredService<ILinkApiClient>(),
            sp.GetRequiredService<IChannelStateStore>(), sp.GetRequiredService<IChannelLease>(), sp.GetRequiredService<IOperatorNotices>(),
            sp.GetRequiredService<ILinkMetrics>(), sp.GetRequiredService<ReplyInstruments>(), sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILoggerFactory>().CreateLogger("WeSeek.Channels.ILink")));
        builder.Services.AddSingleton<IChannel>(sp => sp.GetRequiredService<ILinkChannel>());
        builder.Services.TryAddSingleton(sp => new ILinkWebLogin(sp.GetRequiredService<ILinkLogin>(), sp.GetRequiredService<ILogger<ILinkWebLogin>>()));
        return builder;
    }

    /// <summary>Adds <see cref="ILinkLogin"/> (and the options and API client it uses) without the channel,
    /// for <c>weseek login weixin</c>. Needs an <see cref="IChannelStateStore"/>.</summary>
    public static IServiceCollection AddILinkLogin(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.TryAddSingleton(TimeProvider.System);
        services.AddOptions<ILinkOptions>().Bind(configuration.GetSection("ILink")).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ILinkOptions>, OptionsValidator>());
        // Timeouts are per call (the long-poll needs longer than the rest), so the client has none of its own.
        services.AddHttpClient(ILinkApiClient.HttpClientName, client => client.Timeout = Timeout.InfiniteTimeSpan);
        services.TryAddSingleton<ILinkApiClient>();
        services.TryAddSingleton<ILinkMediaClient>();
        services.TryAddSingleton(sp => new ILinkLogin(sp.GetRequiredService<ILinkApiClient>(), sp.GetRequiredService<IChannelStateStore>(),
            sp.GetRequiredService<IOptions<ILinkOptions>>(), sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<ILinkLogin>>()));
        return services;
    }

    /// <summary>DataAnnotations plus the account name, each failure naming its key and environment variable.</summary>
    private sealed class OptionsValidator : IValidateOptions<ILinkOptions>
    {
        public ValidateOptionsResult Validate(string? name, ILinkOptions options)
        {
            var failures = new List<string>();
            var results = new List<ValidationResult>();
            Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true);
            foreach (var result in results)
            {
                foreach (var member in result.MemberNames.DefaultIfEmpty(""))
                {
                    failures.Add($"{Key(member)}: {result.ErrorMessage}");
                }
            }

            if (options.Account is { Length: > 0 } account && !IsName(account))
            {
                failures.Add($"{Key(nameof(ILinkOptions.Account))}: 1-32 lower-case letters, digits, '-' or '_' (it is in the channel id)");
            }

            if (options.BackupAccount is { Length: > 0 } backup && (!IsName(backup) || backup == options.Account))
            {
                failures.Add($"{Key(nameof(ILinkOptions.BackupAccount))}: another account's name, 1-32 lower-case letters, digits, '-' or '_'");
            }

            return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
        }

        private static bool IsName(string name) =>
            name.Length <= 32 && name.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-' or '_');

        private static string Key(string member) =>
            member.Length == 0 ? "ILink (environment variable WESEEK__ILink)" : $"ILink:{member} (environment variable WESEEK__ILink__{member})";
    }
}
