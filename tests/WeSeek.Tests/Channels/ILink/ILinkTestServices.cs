using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using WeSeek.TestKit;

namespace WeSeek.Tests.Channels.ILink;

/// <summary>The iLink login, API and media clients over a real SQLite store, pointed at a fake iLink server.</summary>
internal static class ILinkTestServices
{
    public static ServiceProvider Create(TempDirectory data, FakeILinkServer ilink, params (string Key, string Value)[] extra)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Storage:DataDirectory"] = data.Path,
            ["ILink:BaseUrl"] = ilink.BaseUrl.ToString(),
            ["ILink:RetryDelay"] = "00:00:00.020",
            ["ILink:MaxRetryDelay"] = "00:00:00.100",
            ["ILink:LeaseRetryInterval"] = "00:00:00.050",
            ["ILink:QrPollInterval"] = "00:00:00",
            ["ILink:Typing"] = "false",
            ["ILink:CdnBaseUrl"] = ilink.CdnBaseUrl.ToString(),
        }.Concat(extra.Select(e => new KeyValuePair<string, string?>(e.Key, e.Value)))).Build();
        var services = new ServiceCollection().AddLogging().AddMetrics();
        services.AddWeSeekChannelState(configuration);
        services.AddILinkLogin(configuration);
        return services.BuildServiceProvider();
    }
}
