using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace WeSeek.Configuration;

/// <summary>Binds an options class to its section and validates it when the host starts.</summary>
public static class OptionsRegistration
{
    public static OptionsBuilder<TOptions> AddSection<TOptions>(this IServiceCollection services, IConfiguration configuration, string section)
        where TOptions : class => services.AddSection<TOptions>(configuration, section, check: null);

    /// <summary>As <see cref="AddSection{TOptions}(IServiceCollection, IConfiguration, string)"/>, with a
    /// <paramref name="check"/> that runs once the annotations pass and is reported the same way.</summary>
    public static OptionsBuilder<TOptions> AddSection<TOptions>(this IServiceCollection services, IConfiguration configuration, string section, Func<TOptions, IEnumerable<ValidationResult>>? check)
        where TOptions : class
    {
        services.AddSingleton<IValidateOptions<TOptions>>(new SectionValidator<TOptions>(section, check));
        services.AddSingleton(new BoundSection(section, typeof(TOptions)));
        return services.AddOptions<TOptions>().Bind(configuration.GetSection(section)).ValidateOnStart();
    }
}

/// <summary>A configuration section and the options class bound to it: the host warns about keys under a
/// WeSeek section that no such class reads.</summary>
public sealed record BoundSection(string Section, Type OptionsType);
