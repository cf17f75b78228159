using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace WeSeek.Configuration;

/// <summary>
/// Validates an options class with its DataAnnotations and names every bad value by its configuration key
/// and environment variable (<c>Outbox:DailyCap (WESEEK__Outbox__DailyCap): …</c>), so an operator knows
/// exactly what to change.
/// </summary>
/// <remarks><paramref name="check"/> runs only when the annotations pass, as <see cref="IValidatableObject"/> does:
/// for a rule that needs what the options' own assembly does not carry.</remarks>
internal sealed class SectionValidator<TOptions>(string section, Func<TOptions, IEnumerable<ValidationResult>>? check = null) : IValidateOptions<TOptions> where TOptions : class
{
    public ValidateOptionsResult Validate(string? name, TOptions options)
    {
        var results = new List<ValidationResult>();
        if (Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true))
        {
            results.AddRange(check?.Invoke(options) ?? []);
            if (results.Count == 0)
            {
                return ValidateOptionsResult.Success;
            }
        }

        var failures = results.SelectMany(r => (r.MemberNames.Any() ? r.MemberNames : [""]).Select(member =>
        {
            var key = member.Length == 0 ? section : $"{section}:{member}";
            return $"{key} (environment variable WESEEK__{key.Replace(":", "__", StringComparison.Ordinal)}): {r.ErrorMessage}";
        }));
        return ValidateOptionsResult.Fail(failures);
    }
}
