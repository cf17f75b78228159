using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace WeSeek.Channels;

/// <summary>
/// A channel's options checked with their DataAnnotations, every failure naming its configuration key and
/// environment variable (<c>OfficialAccount:PassiveReplyBudget (environment variable
/// WESEEK__OfficialAccount__PassiveReplyBudget): …</c>), as the core's sections do.
/// </summary>
internal sealed class ChannelOptionsValidator<TOptions>(string section) : IValidateOptions<TOptions> where TOptions : class
{
    public ValidateOptionsResult Validate(string? name, TOptions options)
    {
        var results = new List<ValidationResult>();
        if (Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true))
        {
            return ValidateOptionsResult.Success;
        }

        return ValidateOptionsResult.Fail(results.SelectMany(r => r.MemberNames.DefaultIfEmpty("").Select(member =>
        {
            var key = member.Length == 0 ? section : $"{section}:{member}";
            return $"{key} (environment variable WESEEK__{key.Replace(":", "__", StringComparison.Ordinal)}): {r.ErrorMessage}";
        })));
    }
}
