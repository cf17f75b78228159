using System.Collections.Concurrent;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using WeSeek.Security;
using WeSeek.TestKit;

namespace WeSeek.Tests.Security;

public sealed class RedactionTests
{
    [Fact]
    public async Task Turn_LoggedAtInformation_HoldsNeitherTheMessageNorAConfiguredSecret()
    {
        var key = Convert.ToBase64String(Enumerable.Range(7, 32).Select(i => (byte)i).ToArray());
        var logs = new CapturingLoggerProvider();
        var settings = new Dictionary<string, string?>
        {
            ["Security:Encryption:Keys"] = key,
            ["OfficialAccount:Accounts:0:AppSecret"] = "app-secret-value-77",
        };
        await using var harness = await CoreHarness.CreateAsync(settings: settings, configure: services =>
            services.AddLogging(logging => logging.AddProvider(logs).SetMinimumLevel(LogLevel.Information)));
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        await new ConfigurationAudit(configuration, harness.Services.GetRequiredService<AuditLog>(), harness.Services.GetRequiredService<ILogger<ConfigurationAudit>>())
            .RecordAsync(CancellationToken.None);

        await harness.ReceiveAsync("m1", "user-openid-4711", "私密内容 wombat-2231");
        await harness.RunTurnsAsync();
        await harness.SendDueAsync();

        Assert.Single(harness.Channel.Sent);
        var text = string.Join('\n', logs.Lines);
        Assert.Contains("Loaded 1 encryption keys", text, StringComparison.Ordinal);
        Assert.Contains("effective configuration", text, StringComparison.Ordinal);
        Assert.DoesNotContain("wombat-2231", text, StringComparison.Ordinal);
        Assert.DoesNotContain("user-openid-4711", text, StringComparison.Ordinal);
        Assert.DoesNotContain(key, text, StringComparison.Ordinal);
        Assert.DoesNotContain("app-secret-value-77", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("401: Authorization: Bearer sk-abc.def", "sk-abc.def")]
    [InlineData("GET https://api.weixin.qq.com/cgi-bin/message/custom/send?access_token=ACCESS_TOKEN_42 failed", "ACCESS_TOKEN_42")]
    [InlineData("{\"error\":\"bad\",\"api_key\":\"sk-live-9\"}", "sk-live-9")]
    [InlineData("appsecret=abcdef0123 rejected", "abcdef0123")]
    public void Scrub_MasksCredentialsInFreeText(string text, string secret)
    {
        var scrubbed = Redaction.Scrub(text);
        Assert.DoesNotContain(secret, scrubbed, StringComparison.Ordinal);
        Assert.Contains(Redaction.Mask, scrubbed, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("OfficialAccount:Accounts:0:AppSecret", true)]
    [InlineData("OfficialAccount:Accounts:0:EncodingAESKey", true)]
    [InlineData("OfficialAccount:Accounts:0:Token", true)]
    [InlineData("Model:Remote:ApiKey", true)]
    [InlineData("Security:Encryption:Keys", true)]
    [InlineData("WebChat:Password", true)]
    [InlineData("Plugins:Http:Secrets:AMAP", true)]
    [InlineData("Plugins:Http:Endpoints:weather:Headers:Authorization", true)]
    [InlineData("Plugins:Sql:ConnectionString", true)]
    [InlineData("Plugins:Http:Endpoints:weather:Url", false)]
    [InlineData("Security:Encryption:KeyFile", false)]
    [InlineData("Outbox:DailyCap", false)]
    public void IsSecretKey_NamesSecretsByTheirKey(string key, bool secret) => Assert.Equal(secret, Redaction.IsSecretKey(key));

    private sealed class CapturingLoggerProvider : ILoggerProvider
    {
        public ConcurrentQueue<string> Lines { get; } = new();

        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

        public void Dispose()
        {
        }

        private sealed class Logger(CapturingLoggerProvider owner, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                if (IsEnabled(logLevel))
                {
                    owner.Lines.Enqueue($"{category} {eventId.Id} {formatter(state, exception)} {exception}");
                }
            }
        }
    }
}
