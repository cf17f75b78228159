using WeSeek.Security;
using WeSeek.TestKit;

namespace WeSeek.Tests.Security;

/// <summary>The default key file on a first start that several instances share (one data directory on a volume).</summary>
public sealed class KeyFileCreationTests
{
    [Fact]
    public async Task InstancesStartingAtOnce_OnAFreshDataDirectory_AllLoadTheOneKeyThatWasMade()
    {
        for (var round = 0; round < 200; round++)
        {
            using var data = new TempDirectory();
            using var start = new ManualResetEventSlim();
            var loads = Enumerable.Range(0, 16).Select(_ => Task.Run(() =>
            {
                start.Wait();
                return KeyRingLoader.Load(new EncryptionOptions(), data.Path, logger: null);
            })).ToList();
            start.Set();

            var rings = await Task.WhenAll(loads);

            Assert.Single(rings.Select(r => r.CurrentId).Distinct());
            Assert.Equal([KeyRingLoader.DefaultKeyFileName], Directory.GetFiles(data.Path).Select(Path.GetFileName));
            if (!OperatingSystem.IsWindows())
            {
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(data.Path, KeyRingLoader.DefaultKeyFileName)));
            }
        }
    }
}
