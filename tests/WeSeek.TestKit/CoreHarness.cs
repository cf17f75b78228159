using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using WeSeek.Messaging;
using WeSeek.Outbox;
using WeSeek.Pipeline;

namespace WeSeek.TestKit;

/// <summary>
/// WeSeek's core over real SQLite in a temporary directory, on virtual time, with a recording channel and a
/// scripted model. Background loops are not started: a test drives them (<see cref="RunTurnsAsync"/>,
/// <see cref="SendDueAsync"/>) and advances <see cref="Time"/> itself, so nothing sleeps.
/// </summary>
public sealed class CoreHarness : IAsyncDisposable
{
    private readonly TempDirectory? _ownedDirectory;

    private CoreHarness(ServiceProvider services, FakeTimeProvider time, RecordingChannel channel, IChatClient client, TempDirectory? owned)
    {
        Services = services;
        Time = time;
        Channel = channel;
        Client = client;
        _ownedDirectory = owned;
    }

    /// <summary>2026-11-28 10:00 in Beijing.</summary>
    public static readonly DateTimeOffset Start = new(2026, 11, 28, 2, 0, 0, TimeSpan.Zero);

    public ServiceProvider Services { get; }

    public FakeTimeProvider Time { get; }

    public RecordingChannel Channel { get; }

    public IChatClient Client { get; }

    public IInboundSink Sink => Services.GetRequiredService<IInboundSink>();

    internal TurnDispatcher Dispatcher => Services.GetRequiredService<TurnDispatcher>();

    internal OutboxSender Sender => Services.GetRequiredService<OutboxSender>();

    /// <summary>Builds the core. <paramref name="dataDirectory"/> lets two harnesses share a database
    /// (a restart); otherwise a fresh one is made and deleted with the harness. <paramref name="postgres"/>, a
    /// connection string (<see cref="PostgresServer.CreateDatabaseAsync"/>), puts the state in PostgreSQL.</summary>
    public static async Task<CoreHarness> CreateAsync(
        IChatClient? client = null,
        IDictionary<string, string?>? settings = null,
        ChannelCapabilities? capabilities = null,
        string? dataDirectory = null,
        FakeTimeProvider? time = null,
        Action<IServiceCollection>? configure = null,
        string? postgres = null)
    {
        var owned = dataDirectory is null ? new TempDirectory() : null;
        time ??= new FakeTimeProvider(Start);
        var config = new Dictionary<string, string?>
        {
            ["Storage:DataDirectory"] = dataDirectory ?? owned!.Path,
            ["Context:IncludeCurrentTime"] = "false",
            ["Dispatcher:RetryDelay"] = "00:00:01",
            // Virtual time does not move by itself: group questions would wait for a test to advance it.
            ["Dispatcher:GroupBurstWindow"] = "00:00:00",
        };
        if (postgres is not null)
        {
            // The data directory still holds the key file; the state is in PostgreSQL.
            config["Storage:Provider"] = "postgres";
            config["Storage:ConnectionString"] = postgres;
        }

        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            config[key] = value;
        }

        var configuration = new ConfigurationBuilder().AddInMemoryCollection(config).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<TimeProvider>(time);
        var channel = new RecordingChannel("wechat", time, capabilities);
        client ??= ScriptedChatClient.Echo();
        services.AddWeSeek(configuration).Services.AddSingleton<IChannel>(channel);
        services.AddChatClient(client).UseReasoningSplit();
        configure?.Invoke(services);
        var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateScopes = true, ValidateOnBuild = true });
        await channel.StartAsync(provider.GetRequiredService<IInboundSink>(), CancellationToken.None);
        return new CoreHarness(provider, time, channel, client, owned);
    }

    /// <summary>Runs turns until no stored message is due (retries waiting for a later time stay pending).</summary>
    public async Task RunTurnsAsync()
    {
        for (var pass = 0; pass < 10_000; pass++)
        {
            // Done when a pass starts nothing and nothing runs: a turn started in this pass may already have ended
            // (a message that needs no model ends at once), so Running alone can read 0 with messages still pending.
            if (await Dispatcher.DispatchAvailableAsync(CancellationToken.None) == 0 && Dispatcher.Running == 0)
            {
                return;
            }

            await Dispatcher.WhenIdleAsync();
        }

        throw new InvalidOperationException("Turns did not settle.");
    }

    /// <summary>Passes of the outbox sender until one sends nothing; returns when the next held message is due.</summary>
    public async Task<DateTimeOffset?> SendDueAsync()
    {
        while (true)
        {
            var pass = await Sender.SendDueAsync(CancellationToken.None);
            if (pass.Attempted == 0)
            {
                return pass.NextDue;
            }
        }
    }

    /// <summary>Accepts a message from the recording channel.</summary>
    public ValueTask<AcceptResult> ReceiveAsync(string externalId, string chatId, string text, bool isGroup = false, string? sender = null) =>
        Sink.AcceptAsync(Channel.Message(externalId, chatId, text, isGroup, sender), CancellationToken.None);

    public async ValueTask DisposeAsync()
    {
        await Services.DisposeAsync();
        _ownedDirectory?.Dispose();
    }
}
