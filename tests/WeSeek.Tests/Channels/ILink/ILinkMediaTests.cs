using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using WeSeek.Channels.ILink;
using WeSeek.Messaging;
using WeSeek.TestKit;

namespace WeSeek.Tests.Channels.ILink;

/// <summary>Images and files through the fake iLink CDN (AES-128-ECB, PKCS#7), over loopback.</summary>
public sealed class ILinkMediaTests
{
    [Fact]
    public async Task Image_UploadedSentAndDownloaded_RoundTripsAndTheCdnChecksSizeAndMd5()
    {
        using var data = new TempDirectory();
        await using var ilink = await FakeILinkServer.StartAsync();
        await using var services = ILinkTestServices.Create(data, ilink);
        var session = await LogInAsync(services, ilink);
        var image = new byte[5000];
        new Random(6).NextBytes(image);
        var media = services.GetRequiredService<ILinkMediaClient>();

        var uploaded = await media.UploadAsync(session, "user-m@im.wechat", image, ILinkMediaType.Image, CancellationToken.None);
        await services.GetRequiredService<ILinkApiClient>().SendItemAsync(session, "user-m@im.wechat", "ctx-m", "weseek-test-1-0",
            new ILinkItem { Type = ILinkItemType.Image, ImageItem = new ILinkImage { Media = uploaded.Media, MidSize = uploaded.CipherSize } }, CancellationToken.None);

        Assert.Equal(1, ilink.VerifiedUploads);
        Assert.Equal(5008, uploaded.CipherSize);
        var sent = Assert.Single(ilink.Sent);
        var reference = sent.MediaItem!["image_item"]!["media"].Deserialize<ILinkCdnMedia>(ILinkJson.Options)!;
        Assert.Equal(image, await media.DownloadAsync(reference, CancellationToken.None));
        Assert.Empty(ilink.ProtocolErrors);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Download_EitherKeyEncoding_Decrypts(bool hexKey)
    {
        using var data = new TempDirectory();
        await using var ilink = await FakeILinkServer.StartAsync();
        await using var services = ILinkTestServices.Create(data, ilink);
        var file = "文件内容 file content"u8.ToArray();
        var (param, key) = ilink.PutCdnFile(file, hexKey);

        var downloaded = await services.GetRequiredService<ILinkMediaClient>().DownloadAsync(new ILinkCdnMedia { EncryptQueryParam = param, AesKey = key }, CancellationToken.None);

        Assert.Equal(file, downloaded);
    }

    [Fact]
    public async Task Download_LargerThanTheLimit_IsRefused()
    {
        using var data = new TempDirectory();
        await using var ilink = await FakeILinkServer.StartAsync();
        await using var services = ILinkTestServices.Create(data, ilink, ("ILink:MaxMediaBytes", "2048"));
        var (param, key) = ilink.PutCdnFile(new byte[4096], hexKey: false);

        await Assert.ThrowsAsync<ILinkApiException>(() => services.GetRequiredService<ILinkMediaClient>().DownloadAsync(new ILinkCdnMedia { EncryptQueryParam = param, AesKey = key }, CancellationToken.None));
    }

    [Theory]
    [InlineData(0, 16)]
    [InlineData(15, 16)]
    [InlineData(16, 32)]
    [InlineData(17, 32)]
    public void Encrypt_PadsToTheNextBlock_AndDecryptsBack(int plain, int cipher)
    {
        var key = Enumerable.Range(1, 16).Select(i => (byte)i).ToArray();
        var text = Enumerable.Repeat((byte)'x', plain).ToArray();

        var encrypted = ILinkMediaClient.Encrypt(key, text);

        Assert.Equal(cipher, encrypted.Length);
        Assert.Equal(text, ILinkMediaClient.Decrypt(key, encrypted));
        Assert.Throws<ILinkApiException>(() => ILinkMediaClient.Decrypt(key.Reverse().ToArray(), encrypted));
    }

    private static async Task<ILinkSession> LogInAsync(ServiceProvider services, FakeILinkServer ilink)
    {
        ilink.ScriptQr("confirmed");
        await services.GetRequiredService<ILinkLogin>().RunAsync((_, _) => Task.CompletedTask, null, CancellationToken.None);
        var state = new ILinkState(services.GetRequiredService<IChannelStateStore>(), ChannelId.From("ilink:default"));
        return (await state.GetSessionAsync(ilink.BaseUrl, CancellationToken.None))!;
    }
}
