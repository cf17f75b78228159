using System.Collections.Concurrent;
using System.CommandLine;
using Spectre.Console;
using WeSeek.Channels.Terminal;
using WeSeek.Streaming;

namespace WeSeek.Host.Commands;

/// <summary>
/// <c>weseek chat</c>: a terminal chat through the same pipeline as WeChat (inbox, turn, outbox), with the
/// answer streamed as it is generated and the reasoning shown dimmed (<c>--show-thinking</c>) or hidden.
/// </summary>
internal static class ChatCommand
{
    public static Command Create()
    {
        var showThinking = new Option<bool>("--show-thinking") { Description = "Show the model's reasoning, dimmed, before the answer." };
        var chat = new Option<string>("--chat") { Description = "Which conversation to continue (default 'local').", DefaultValueFactory = _ => "local" };
        var model = HostComposition.ModelOption();
        var command = new Command("chat", "Chat with the bot in the terminal, through the same pipeline as WeChat.")
        {
            showThinking,
            chat,
            model,
        };
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction((result, cancellationToken) =>
            RunAsync([.. result.UnmatchedTokens, .. HostComposition.ModelArgs(result.GetValue(model))], result.GetValue(chat) ?? "local", result.GetValue(showThinking), cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(string[] args, string chatId, bool showThinking, CancellationToken cancellationToken)
    {
        try
        {
            // The conversation owns stdout: logs (warnings and errors only) go to stderr, so `weseek chat 2>weseek.log`
            // keeps the terminal for the chat alone.
            var builder = HostComposition.CreateBuilder(args);
            builder.AddWeSeekServices().AddChannel<TerminalChannel>();
            await using var host = await builder.BuildHostAsync();
            await host.StartAsync(cancellationToken);
            try
            {
                await Console.Error.WriteLineAsync($"WeSeek keeps its data in {builder.Configuration["Storage:DataDirectory"]} (--data DIR or {DataLocation.HomeVariable} names another).");
                await ConverseAsync(host.Services, chatId, showThinking, host.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping);
            }
            finally
            {
                await host.StopAsync(CancellationToken.None);
            }

            return 0;
        }
        catch (Exception ex) when (HostComposition.TryReportConfigurationError(ex))
        {
            return 2;
        }
    }

    private static async Task ConverseAsync(IServiceProvider services, string chatId, bool showThinking, CancellationToken stopping)
    {
        var channel = services.GetRequiredService<TerminalChannel>();
        var stream = services.GetRequiredService<IReplyStreamHub>();
        var console = AnsiConsole.Console;
        var answered = new ConcurrentDictionary<long, TaskCompletionSource>();
        var streamed = new ConcurrentDictionary<long, bool>();
        var silent = new ConcurrentDictionary<long, bool>();
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(stopping);

        console.MarkupLine("[bold green]WeSeek[/] terminal chat. [grey]/help for commands, Ctrl+D to quit.[/]");
        var printer = Task.Run(async () =>
        {
            var tokens = stream.Subscribe(TerminalChannel.ChannelId, chatId, cts.Token);
            var thinking = false;
            await foreach (var e in tokens.ReadAllAsync(cts.Token))
            {
                switch (e.Kind)
                {
                    case ReplyStreamEventKind.Reasoning:
                        // Only a chat with /think on (--show-thinking) gets reasoning on the stream.
                        console.Markup("[dim]" + Markup.Escape(e.Text) + "[/]");
                        thinking = true;
                        break;
                    case ReplyStreamEventKind.Answer:
                        if (thinking)
                        {
                            console.WriteLine();
                            thinking = false;
                        }

                        streamed[e.InboxId] = true;
                        console.Write(new Text(e.Text));
                        break;
                    case ReplyStreamEventKind.Completed:
                        thinking = false;
                        break;
                }
            }
        }, cts.Token);

        var replies = Task.Run(async () =>
        {
            await foreach (var reply in channel.Replies.ReadAllAsync(cts.Token))
            {
                // The reasoning lead (/think on) repeats what the stream already showed; the answer follows it.
                if (reply.Text.StartsWith(WeSeek.Replies.ComposerMiddleware.ReasoningLead, StringComparison.Ordinal))
                {
                    continue;
                }

                // An answer already streamed token by token is not printed twice; commands are not streamed.
                if (!silent.ContainsKey(reply.InboxId))
                {
                    if (!streamed.ContainsKey(reply.InboxId))
                    {
                        console.Write(new Text(reply.Text));
                    }

                    console.WriteLine();
                }

                if (answered.TryRemove(reply.InboxId, out var done))
                {
                    done.TrySetResult();
                }
            }
        }, cts.Token);

        try
        {
            if (showThinking)
            {
                // --show-thinking is /think on for this chat: the reasoning then comes on the stream, and the
                // command's confirmation is not printed.
                var on = await channel.AcceptAsync(chatId, "/think on", cts.Token);
                if (on.IsAccepted)
                {
                    silent[on.InboxId] = true;
                    var done = answered.GetOrAdd(on.InboxId, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
                    await done.Task.WaitAsync(cts.Token);
                }
            }

            while (!cts.IsCancellationRequested)
            {
                console.Markup("[bold blue]> [/]");
                var line = await Console.In.ReadLineAsync(cts.Token);
                if (line is null)
                {
                    break;
                }

                if (string.IsNullOrWhiteSpace(line))
                {
                    continue;
                }

                var result = await channel.AcceptAsync(chatId, line, cts.Token);
                if (!result.IsAccepted)
                {
                    console.MarkupLine("[red]" + Markup.Escape(result.Reason ?? "Refused.") + "[/]");
                    continue;
                }

                var done = answered.GetOrAdd(result.InboxId, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
                await done.Task.WaitAsync(cts.Token);
            }
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
        }
        finally
        {
            await cts.CancelAsync();
            await Task.WhenAll(printer, replies).ContinueWith(static _ => { }, TaskScheduler.Default);
        }
    }
}
