using System.CommandLine;
using QRCoder;
using WeSeek.Channels.ILink;

namespace WeSeek.Host.Commands;

/// <summary><c>weseek login weixin</c>: logs a personal WeChat account in through iLink (微信 ClawBot) by QR
/// code, printed in the terminal; the token goes to the data directory's store, where <c>serve</c> finds it.</summary>
internal static class LoginCommand
{
    public static Command Create()
    {
        var account = new Option<string?>("--account") { Description = "The account's name (ILink:Account, default 'default')." };
        var light = new Option<bool>("--light-terminal") { Description = "Draw the QR code for a terminal with a light background (default: dark)." };
        var weixin = new Command("weixin", "Log a personal WeChat account in through iLink (微信 ClawBot): scan the QR code with WeChat.")
        {
            account,
            light,
        };
        weixin.TreatUnmatchedTokensAsErrors = false;
        weixin.SetAction((result, cancellationToken) =>
        {
            var args = result.UnmatchedTokens.ToList();
            if (result.GetValue(account) is { Length: > 0 } name)
            {
                args.Add("--ILink:Account=" + name);
            }

            return RunWeixinAsync([.. args], result.GetValue(light), Console.Out, cancellationToken);
        });
        return new Command("login", "Log a channel in: weixin (personal WeChat by QR code).") { weixin };
    }

    private static async Task<int> RunWeixinAsync(string[] args, bool lightTerminal, TextWriter output, CancellationToken cancellationToken)
    {
        try
        {
            var builder = HostComposition.CreateBuilder(args);
            builder.Services.AddWeSeekChannelState(builder.Configuration);
            builder.Services.AddILinkLogin(builder.Configuration);
            // Built, the host has validated the options, naming a bad key before anything is fetched.
            await using var host = await builder.BuildHostAsync();
            await host.StartAsync(cancellationToken);
            var login = host.Services.GetRequiredService<ILinkLogin>();
            await output.WriteLineAsync($"Logging {login.Channel} in. Scan the QR code with WeChat (微信扫一扫) and confirm on the phone.");
            var result = await login.RunAsync(
                async (content, ct) =>
                {
                    await output.WriteLineAsync();
                    await output.WriteLineAsync(Render(content, lightTerminal));
                    await output.WriteLineAsync("If the code does not scan, open this link in WeChat: " + content);
                },
                progress =>
                {
                    if (progress == ILinkLoginProgress.Scanned)
                    {
                        output.WriteLine("Scanned (已扫码): confirm the login on the phone.");
                    }
                },
                cancellationToken);
            await host.StopAsync(CancellationToken.None);
            switch (result.Outcome)
            {
                case ILinkLoginOutcome.LoggedIn:
                    await output.WriteLineAsync($"Logged in (登录成功) as bot {result.BotId}. Run `weseek serve --ILink:Enabled=true` to answer its messages.");
                    return 0;
                case ILinkLoginOutcome.AlreadyBound:
                    await output.WriteLineAsync("This bot is already connected to this install (已连接过); the stored login stays.");
                    return 0;
                case ILinkLoginOutcome.Expired:
                    await Console.Error.WriteLineAsync("The QR code expired before it was scanned (二维码已过期). Run `weseek login weixin` again.");
                    return 1;
                default:
                    await Console.Error.WriteLineAsync("WeChat asked for a verification code, which this version cannot enter. Try again later.");
                    return 1;
            }
        }
        catch (Exception ex) when (HostComposition.TryReportConfigurationError(ex))
        {
            return 2;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Ctrl+C while waiting for the scan: nothing was stored.
            return 130;
        }
        catch (Exception ex) when (ex is HttpRequestException or ILinkApiException or System.Text.Json.JsonException)
        {
            await Console.Error.WriteLineAsync("The login failed: " + ex.Message);
            return 1;
        }
    }

    /// <summary>The QR code in half-block characters (two modules per character row), with its quiet zone so
    /// phones find the edges. A block is drawn in the terminal's text colour: on a dark terminal the light
    /// modules are the blocks, on a light one the dark modules.</summary>
    internal static string Render(string content, bool lightTerminal)
    {
        using var generator = new QRCodeGenerator();
        using var data = generator.CreateQrCode(content, QRCodeGenerator.ECCLevel.M);
        using var code = new AsciiQRCode(data);
        return code.GetGraphicSmall(drawQuietZones: true, invert: lightTerminal, endOfLine: Environment.NewLine);
    }
}
