using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WeSeek;
using WeSeek.Channels;
using WeSeek.Channels.WeChatCrypto;
using WeSeek.Channels.WeCom;
using WeSeek.Messaging;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the 企业微信 channels.</summary>
public static class WeComChannelServiceCollectionExtensions
{
    /// <summary>True when section <c>WeCom:Apps</c> names at least one app.</summary>
    public static bool HasWeComApps(this IConfiguration configuration) =>
        configuration.GetSection("WeCom:Apps").GetChildren().Any();

    /// <summary>Adds one channel per app of section <c>WeCom</c>; map them with <c>MapWeCom()</c>. Apps are
    /// validated at start-up, naming the key.</summary>
    public static IWeSeekBuilder AddWeCom(this IWeSeekBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var section = builder.Configuration.GetSection("WeCom");
        builder.Services.AddOptions<WeComOptions>()
            .Bind(section)
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<WeComOptions>>(new ChannelOptionsValidator<WeComOptions>("WeCom"));
        builder.Services.AddSingleton<IValidateOptions<WeComOptions>, AppsValidator>();
        builder.Services.AddWeChatApi();
        builder.Services.AddHttpClient(WeComApiClient.HttpClientName);
        builder.Services.TryAddSingleton<WeComApiClient>();
        // One channel per app, keyed by the app's name (the callback URL's last segment).
        foreach (var name in section.GetSection("Apps").GetChildren().Select(c => c.Key))
        {
            builder.Services.AddSingleton<IChannel>(sp => sp.GetRequiredKeyedService<WeComChannel>(name));
            builder.Services.AddKeyedSingleton(name, (sp, _) =>
            {
                var options = sp.GetRequiredService<IOptions<WeComOptions>>().Value;
                return new WeComChannel(name, options.Apps[name], options, sp.GetRequiredService<IReplyClaims>(),
                    sp.GetRequiredService<WeComApiClient>(), sp.GetRequiredService<TimeProvider>(),
                    sp.GetRequiredService<ILoggerFactory>().CreateLogger("WeSeek.Channels.WeCom"));
            });
        }

        return builder;
    }

    private sealed class AppsValidator : IValidateOptions<WeComOptions>
    {
        public ValidateOptionsResult Validate(string? name, WeComOptions options)
        {
            var problems = Problems(options);
            return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
        }
    }

    internal static List<string> Problems(WeComOptions o)
    {
        var problems = new List<string>();
        foreach (var (name, a) in o.Apps)
        {
            var key = $"WeCom:Apps:{name}";
            var env = $"WESEEK__WeCom__Apps__{name}";
            if (name.Length is 0 or > 32 || !name.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-' or '_'))
            {
                problems.Add($"{key}: the app name must be 1-32 lower-case letters, digits, '-' or '_' (it is in the callback URL)");
            }

            if (string.IsNullOrEmpty(a.Token))
            {
                problems.Add($"{key}:Token ({env}__Token) is required: 接收消息 → 设置API接收 → Token");
            }

            if (!WeChatMessageCrypto.IsValidKey(a.EncodingAesKey))
            {
                problems.Add($"{key}:EncodingAesKey ({env}__EncodingAesKey) must be the console's 43-character EncodingAESKey (WeCom always encrypts)");
            }

            if (string.IsNullOrEmpty(a.CorpId))
            {
                problems.Add($"{key}:CorpId ({env}__CorpId) is required: 我的企业 → 企业ID");
            }

            if (string.IsNullOrEmpty(a.CorpSecret))
            {
                problems.Add($"{key}:CorpSecret ({env}__CorpSecret) is required: the app's Secret");
            }

            if (a.AgentId <= 0)
            {
                problems.Add($"{key}:AgentId ({env}__AgentId) is required: the app's AgentId, a positive number");
            }
        }

        return problems;
    }
}
