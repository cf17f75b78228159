using System.Text.Json.Nodes;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using WeSeek.Logging;

namespace WeSeek.Security;

/// <summary>
/// At start-up, appends the effective configuration (secrets masked) and its SHA-256 to the audit log, with
/// whether it changed since the last start: a configuration change shows in the audit log as the first start
/// that ran with it.
/// </summary>
internal sealed partial class ConfigurationAudit : IHostedService
{
    private readonly IConfiguration _configuration;
    private readonly AuditLog _audit;
    private readonly ILogger<ConfigurationAudit> _logger;

    public ConfigurationAudit(IConfiguration configuration, AuditLog audit, ILogger<ConfigurationAudit> logger)
    {
        _configuration = configuration;
        _audit = audit;
        _logger = logger;
    }

    public async Task StartAsync(CancellationToken cancellationToken) => await RecordAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Appends the record; returns the configuration's hash.</summary>
    public async Task<string> RecordAsync(CancellationToken cancellationToken)
    {
        var redacted = Redaction.RedactedConfiguration(_configuration);
        var hash = AuditLog.Sha256(redacted.ToJsonString());
        var previous = await _audit.LastDataAsync("config.effective", cancellationToken);
        var changed = previous?["configSha256"]?.GetValue<string>() != hash;
        var id = await _audit.AppendAsync("config.effective", new JsonObject
        {
            ["configSha256"] = hash,
            ["changed"] = changed,
            ["configuration"] = redacted,
        }, cancellationToken);
        Log.Recorded(_logger, id, hash, changed);
        return hash;
    }

    private static partial class Log
    {
        [LoggerMessage(WeSeekEventId.AuditConfigurationRecorded, LogLevel.Information, "Audit record {Id}: effective configuration {Sha256} (changed since last start: {Changed})")]
        public static partial void Recorded(ILogger logger, long id, string sha256, bool changed);
    }
}
