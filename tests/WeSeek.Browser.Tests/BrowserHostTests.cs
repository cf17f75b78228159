namespace WeSeek.Browser.Tests;

/// <summary>The browser tests' own harness: a machine without Chromium fails them and says how to install it.</summary>
[Collection(BrowserCollection.Name)]
public sealed class BrowserHostTests
{
    [Fact]
    public async Task WithoutChromium_TheHostFailsToStart_SayingHowToInstallIt()
    {
        var previous = Environment.GetEnvironmentVariable("WESEEK_CHROMIUM");
        Environment.SetEnvironmentVariable("WESEEK_CHROMIUM", "/nonexistent/chromium");
        try
        {
            await using var host = new BrowserHost();

            var error = await Assert.ThrowsAsync<InvalidOperationException>(() => host.InitializeAsync().AsTask());

            Assert.Contains("/nonexistent/chromium", error.Message, StringComparison.Ordinal);
            Assert.Contains("apt-get install -y chromium", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            Environment.SetEnvironmentVariable("WESEEK_CHROMIUM", previous);
        }
    }
}
