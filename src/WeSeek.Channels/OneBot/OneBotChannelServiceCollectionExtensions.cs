using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WeSeek;
using WeSeek.Channels;
using WeSeek.Channels.OneBot;
using WeSeek.Messaging;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the OneBot 12 channel.</summary>
public static class OneBotChannelServiceCollectionExtensions
{
    /// <summary>True when <c>OneBot:Enabled</c> is true.</summary>
    public static bool HasOneBot(this IConfiguration configuration) =>
        configuration.GetValue<bool>("OneBot:Enabled");

    /// <summary>Adds the channel <c>onebot</c> (section <c>OneBot</c>); in reverse mode map its endpoint with
    /// <c>MapOneBot()</c>. Needs the core's <see cref="IChannelStateStore"/> and <see cref="IChannelLease"/>.</summary>
    public static IWeSeekBuilder AddOneBot(this IWeSeekBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddOptions<OneBotOptions>().Bind(builder.Configuration.GetSection("OneBot")).ValidateOnStart();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<OneBotOptions>, OptionsValidator>());
        builder.Services.TryAddSingleton(sp => new OneBotChannel(
            sp.GetRequiredService<IOptions<OneBotOptions>>().Value, sp.GetRequiredService<IChannelStateStore>(),
            sp.GetRequiredService<IChannelLease>(), sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILoggerFactory>().CreateLogger("WeSeek.Channels.OneBot")));
        builder.Services.AddSingleton<IChannel>(sp => sp.GetRequiredService<OneBotChannel>());
        builder.Services.AddHealthChecks().AddCheck<OneBotHealthCheck>("onebot", tags: [ChannelHealth.Tag]);
        return builder;
    }

    /// <summary>DataAnnotations plus the token and the mode's URL, each failure naming its key and environment variable.</summary>
    private sealed class OptionsValidator : IValidateOptions<OneBotOptions>
    {
        public ValidateOptionsResult Validate(string? name, OneBotOptions options)
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

            if (string.IsNullOrEmpty(options.AccessToken) || options.AccessToken.Length < 16)
            {
                failures.Add($"{Key(nameof(OneBotOptions.AccessToken))}: required, at least 16 characters, the same as the implementation's access_token");
            }

            if (options.Mode == OneBotMode.Forward
                && (options.ForwardUrl is not { IsAbsoluteUri: true } url || url.Scheme is not ("ws" or "wss")))
            {
                failures.Add($"{Key(nameof(OneBotOptions.ForwardUrl))}: the implementation's ws:// or wss:// URL, required in Forward mode");
            }

            if (!Enum.IsDefined(options.Mode))
            {
                failures.Add($"{Key(nameof(OneBotOptions.Mode))}: Reverse or Forward");
            }

            return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
        }

        private static string Key(string member) =>
            member.Length == 0 ? "OneBot (environment variable WESEEK__OneBot)" : $"OneBot:{member} (environment variable WESEEK__OneBot__{member})";
    }
}
