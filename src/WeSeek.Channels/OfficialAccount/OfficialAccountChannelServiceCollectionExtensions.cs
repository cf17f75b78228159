using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WeSeek;
using WeSeek.Channels;
using WeSeek.Channels.OfficialAccount;
using WeSeek.Channels.WeChat;
using WeSeek.Channels.WeChatCrypto;
using WeSeek.Messaging;
using WeSeek.Operations;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the 公众号 channels.</summary>
public static class OfficialAccountChannelServiceCollectionExtensions
{
    /// <summary>True when section <c>OfficialAccount:Accounts</c> names at least one account.</summary>
    public static bool HasOfficialAccounts(this IConfiguration configuration) =>
        configuration.GetSection("OfficialAccount:Accounts").GetChildren().Any();

    /// <summary>Adds one channel per account of section <c>OfficialAccount</c>; map them with
    /// <c>MapOfficialAccount()</c>. Accounts are validated at start-up, naming the key.</summary>
    public static IWeSeekBuilder AddOfficialAccount(this IWeSeekBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var section = builder.Configuration.GetSection("OfficialAccount");
        builder.Services.AddOptions<OfficialAccountOptions>()
            .Bind(section)
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<OfficialAccountOptions>>(new ChannelOptionsValidator<OfficialAccountOptions>("OfficialAccount"));
        builder.Services.AddSingleton<IValidateOptions<OfficialAccountOptions>, AccountsValidator>();
        builder.Services.AddWeChatApi();
        builder.Services.AddHttpClient(OfficialAccountApiClient.HttpClientName);
        builder.Services.TryAddSingleton<OfficialAccountApiClient>();
        builder.Services.AddMetrics();
        builder.Services.TryAddSingleton<ReplyInstruments>();
        // One channel per account, keyed by the account's name (the callback URL's last segment).
        foreach (var name in section.GetSection("Accounts").GetChildren().Select(c => c.Key))
        {
            builder.Services.AddSingleton<IChannel>(sp => sp.GetRequiredKeyedService<OfficialAccountChannel>(name));
            builder.Services.AddKeyedSingleton(name, (sp, _) =>
            {
                var options = sp.GetRequiredService<IOptions<OfficialAccountOptions>>().Value;
                return new OfficialAccountChannel(name, options.Accounts[name], options, sp.GetRequiredService<IReplyClaims>(),
                    sp.GetRequiredService<OfficialAccountApiClient>(), sp.GetRequiredService<ReplyInstruments>(), sp.GetRequiredService<TimeProvider>(),
                    sp.GetRequiredService<ILoggerFactory>().CreateLogger("WeSeek.Channels.OfficialAccount"));
            });
        }

        return builder;
    }

    internal static void AddWeChatApi(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IAccessTokenCache, InProcessAccessTokenCache>();
    }

    private sealed class AccountsValidator : IValidateOptions<OfficialAccountOptions>
    {
        public ValidateOptionsResult Validate(string? name, OfficialAccountOptions options)
        {
            var problems = Problems(options);
            return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
        }
    }

    private static List<string> Problems(OfficialAccountOptions o)
    {
        var problems = new List<string>();
        foreach (var (name, a) in o.Accounts)
        {
            var key = $"OfficialAccount:Accounts:{name}";
            var env = $"WESEEK__OfficialAccount__Accounts__{name}";
            if (name.Length is 0 or > 32 || !name.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-' or '_'))
            {
                problems.Add($"{key}: the account name must be 1-32 lower-case letters, digits, '-' or '_' (it is in the callback URL)");
            }

            if (string.IsNullOrEmpty(a.Token))
            {
                problems.Add($"{key}:Token ({env}__Token) is required: the MP console's 令牌");
            }

            if (string.IsNullOrEmpty(a.AppId))
            {
                problems.Add($"{key}:AppId ({env}__AppId) is required: the MP console's 开发者ID");
            }

            if (a.EncodingAesKey.Length > 0 && !WeChatMessageCrypto.IsValidKey(a.EncodingAesKey))
            {
                problems.Add($"{key}:EncodingAesKey ({env}__EncodingAesKey) must be the console's 43-character 消息加解密密钥");
            }

            if (a.EffectiveMode != CallbackMode.Plain && string.IsNullOrEmpty(a.EncodingAesKey))
            {
                problems.Add($"{key}:EncodingAesKey ({env}__EncodingAesKey) is required with Mode {a.EffectiveMode} (or set {env}__Mode to Plain)");
            }

            if (a.ReplyMode == ReplyMode.CustomerService && string.IsNullOrEmpty(a.AppSecret))
            {
                problems.Add($"{key}:AppSecret ({env}__AppSecret) is required with ReplyMode CustomerService (or set ReplyMode to PassiveOnly)");
            }
        }

        return problems;
    }
}
