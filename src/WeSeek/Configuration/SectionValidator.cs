using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace WeSeek.Configuration;

/// <summary>
/// Validates an options class with its DataAnnotations and names every bad value by its configuration key
/// and environment variable (<c>Outbox:DailyCap (WESEEK__Outbox__DailyCap): …</c>), so an operator knows
/// exactly what to change.
/// </summary>
internal sealed class SectionValidator<TOptions>(string section) : IValidateOptions<TOptions> where TOptions : class
{
    public ValidateOptionsResult Validate(string? name, TOptions options)
    {
        var results = new List<ValidationResult>();
        if (Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true))
        {
            return ValidateOptionsResult.Success;
        }

        var failures = results.SelectMany(r => (r.MemberNames.Any() ? r.MemberNames : [""]).Select(member =>
        {
            var key = member.Length == 0 ? section : $"{section}:{member}";
            return $"{key} (environment variable WESEEK__{key.Replace(":", "__", StringComparison.Ordinal)}): {r.ErrorMessage}";
        }));
        return ValidateOptionsResult.Fail(failures);
    }
}
