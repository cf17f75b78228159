using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace WeSeek.Configuration;

/// <summary>Binds an options class to its section and validates it when the host starts.</summary>
internal static class OptionsRegistration
{
    public static OptionsBuilder<TOptions> AddSection<TOptions>(this IServiceCollection services, IConfiguration configuration, string section)
        where TOptions : class
    {
        services.AddSingleton<IValidateOptions<TOptions>>(new SectionValidator<TOptions>(section));
        services.AddSingleton(new BoundSection(section, typeof(TOptions)));
        return services.AddOptions<TOptions>().Bind(configuration.GetSection(section)).ValidateOnStart();
    }
}

/// <summary>A configuration section and the options class bound to it: the host warns about keys under a
/// WeSeek section that no such class reads.</summary>
internal sealed record BoundSection(string Section, Type OptionsType);
