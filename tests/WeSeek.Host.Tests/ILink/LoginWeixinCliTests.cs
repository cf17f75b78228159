using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using WeSeek.TestKit;

namespace WeSeek.Host.Tests.ILink;

/// <summary><c>weseek login weixin</c> as an operator runs it, against the fake iLink server.</summary>
public sealed class LoginWeixinCliTests
{
    [Fact]
    public async Task LoginWeixin_Scanned_PrintsTheQrCodeAndStoresTheToken()
    {
        using var data = new TempDirectory();
        await using var ilink = await FakeILinkServer.StartAsync();
        ilink.ScriptQr("wait", "scaned", "wait", "confirmed");

        var (exitCode, output, error) = await WeseekProcess.RunAsync(Args(data, ilink));

        Assert.True(exitCode == 0, error);
        Assert.Matches("[▀▄█]{7}", output);
        Assert.Contains("https://liteapp.weixin.qq.com/q/qr-1", output, StringComparison.Ordinal);
        Assert.Contains("Scanned", output, StringComparison.Ordinal);
        Assert.Contains("Logged in", output, StringComparison.Ordinal);
        Assert.DoesNotContain(ilink.LastToken!, output + error, StringComparison.Ordinal);
        Assert.DoesNotContain(ilink.LastToken!, Raw(data), StringComparison.Ordinal);
        Assert.Equal(ilink.LastToken, await StoredAsync(data, "bot_token"));
        Assert.Equal(ilink.BaseUrl.ToString(), await StoredAsync(data, "base_url"));
        Assert.Empty(ilink.ProtocolErrors);
    }

    [Fact]
    public async Task LoginWeixin_QrExpires_FailsSayingSoAndStoresNothing()
    {
        using var data = new TempDirectory();
        await using var ilink = await FakeILinkServer.StartAsync();
        ilink.ScriptQr("expired", "expired");

        var (exitCode, _, error) = await WeseekProcess.RunAsync([.. Args(data, ilink), "--ILink:QrRefreshes=1"]);

        Assert.Equal(1, exitCode);
        Assert.Contains("expired", error, StringComparison.Ordinal);
        Assert.Null(await StoredAsync(data, "bot_token"));
    }

    [Fact]
    public async Task LoginWeixin_BadAccountName_StopsNamingTheKeyAndVariable()
    {
        using var data = new TempDirectory();
        await using var ilink = await FakeILinkServer.StartAsync();

        var (exitCode, _, error) = await WeseekProcess.RunAsync([.. Args(data, ilink), "--account", "Not OK"]);

        Assert.Equal(2, exitCode);
        Assert.Contains("WESEEK__ILink__Account", error, StringComparison.Ordinal);
        Assert.Equal(0, ilink.QrCodes);
    }

    private static string[] Args(TempDirectory data, FakeILinkServer ilink) =>
        ["login", "weixin", $"--Storage:DataDirectory={data.Path}", $"--ILink:BaseUrl={ilink.BaseUrl}", "--ILink:QrPollInterval=00:00:00"];

    /// <summary>A stored value as the product reads it (decrypted with the data directory's key).</summary>
    private static async Task<string?> StoredAsync(TempDirectory data, string key)
    {
        if (!File.Exists(Path.Combine(data.Path, "weseek.db")))
        {
            return null;
        }

        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Storage:DataDirectory"] = data.Path })
            .Build();
        var services = new ServiceCollection().AddLogging();
        services.AddWeSeekChannelState(configuration);
        await using var provider = services.BuildServiceProvider();
        return await provider.GetRequiredService<WeSeek.Messaging.IChannelStateStore>().GetAsync(WeSeek.Messaging.ChannelId.From("ilink:default"), key, CancellationToken.None);
    }

    /// <summary>The database files' bytes, for scans for plaintext.</summary>
    private static string Raw(TempDirectory data) => SqliteFiles.ReadAllAsText(Path.Combine(data.Path, "weseek.db"));
}
