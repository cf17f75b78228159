using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using WeSeek.Storage;

namespace WeSeek.Security;

/// <summary>What the operator's verbs (<c>weseek logs export</c>, <c>weseek audit verify</c>) do with a data
/// directory, without the bot around it.</summary>
public static class StoreTools
{
    /// <summary>The storage section, the key ring and the audit log; nothing that runs.</summary>
    public static IServiceCollection AddWeSeekStore(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddStorageSection(configuration);
        return services.AddSecurity(configuration);
    }

    /// <summary>Writes stored conversations as JSON lines (texts only when <paramref name="decrypt"/>); returns how many.</summary>
    public static Task<int> ExportTranscriptsAsync(this IServiceProvider services, TextWriter output, bool decrypt, string? conversation, CancellationToken cancellationToken) =>
        services.GetRequiredService<TranscriptExport>().WriteAsync(output, decrypt, conversation, cancellationToken);

    /// <summary>Walks the audit log's hash chain.</summary>
    public static Task<AuditVerification> VerifyAuditAsync(this IServiceProvider services, CancellationToken cancellationToken) =>
        services.GetRequiredService<AuditLog>().VerifyAsync(cancellationToken);
}
