using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using WeSeek.Host.Commands;
using WeSeek.TestKit;

namespace WeSeek.Host.Tests;

// In Host.Tests, not WeSeek.TestKit: it starts ServeCommand, and the kit referencing WeSeek.Host would drag the host into every test project.

/// <summary>
/// The real product as <c>weseek serve</c> builds it (<see cref="ServeCommand.Build"/>): Kestrel on a loopback port,
/// SQLite in a data directory of its own, the inbox, the pipeline and the outbox. An end-to-end test passes in only
/// what is its own: its settings, the services it replaces (its fakes), and the model. Started means listening;
/// disposing stops the host and then deletes the data directory if the host made it.
/// </summary>
internal sealed class WeSeekTestHost : IAsyncDisposable
{
    /// <summary>How long <see cref="WaitUntilAsync"/> watches: generous, because the machine running the tests
    /// may be busy; a condition that holds returns at once.</summary>
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private readonly TempDirectory? _ownedData;
    private bool _disposed;

    private WeSeekTestHost(WebApplication app, TempDirectory data, bool ownsData)
    {
        App = app;
        Data = data;
        _ownedData = ownsData ? data : null;
        Http = TestHttp.CreateClient(BaseAddressOf(app));
    }

    public WebApplication App { get; }

    public IServiceProvider Services => App.Services;

    /// <summary>The data directory: the host's own, or the one passed in to share with another host.</summary>
    public TempDirectory Data { get; }

    public Uri BaseAddress => BaseAddressOf(App);

    /// <summary>A client for the host's endpoints, disposed with the host.</summary>
    public HttpClient Http { get; }

    /// <summary>Starts the host and returns once it listens.</summary>
    /// <param name="settings">Command-line settings (<c>--Section:Key=value</c>); they win over the defaults here.</param>
    /// <param name="model">The chat model every turn calls, behind the product's reasoning split; null keeps the
    /// configured one (for a test that points <c>Model:Remote</c> at a fake server).</param>
    /// <param name="services">Replaces services after the product registered its own: the test's fakes.</param>
    /// <param name="data">A data directory shared with another host (the caller deletes it); null makes one.</param>
    public static async Task<WeSeekTestHost> StartAsync(IEnumerable<string> settings, ScriptedChatClient? model = null, Action<IServiceCollection>? services = null, TempDirectory? data = null)
    {
        var ownsData = data is null;
        data ??= new TempDirectory();
        try
        {
            var app = await StartAppAsync(data, configure =>
            {
                if (model is not null)
                {
                    configure.RemoveAll<IChatClient>();
                    configure.AddChatClient(model).UseReasoningSplit();
                }

                services?.Invoke(configure);
            },
            [
                // The fakes answer at once; pacing exists for WeChat's rate limits and would only slow a test down.
                "--Outbox:PacingInterval=00:00:00",
                .. settings,
            ]);
            return new WeSeekTestHost(app, data, ownsData);
        }
        catch when (ownsData)
        {
            data.Dispose();
            throw;
        }
    }

    /// <summary>Builds the host as <c>serve</c> does, on a loopback port chosen by the OS, and starts it.</summary>
    internal static async Task<WebApplication> StartAppAsync(TempDirectory data, Action<IServiceCollection>? configure, params string[] extraArgs)
    {
        string[] args = ["--urls=http://127.0.0.1:0", $"--Storage:DataDirectory={data.Path}", "--Outbox:PollInterval=00:00:00.100", "--Model:Provider=remote", .. extraArgs];
        var app = ServeCommand.Build(args, configure);
        await app.StartAsync();
        return app;
    }

    internal static Uri BaseAddressOf(WebApplication app) =>
        new(app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First());

    /// <summary>Waits until <paramref name="condition"/> holds, failing with its text after <see cref="Patience"/>.</summary>
    public static async Task WaitUntilAsync(Func<bool> condition, [CallerArgumentExpression(nameof(condition))] string what = "")
    {
        var deadline = TimeProvider.System.GetUtcNow() + Patience;
        while (!condition())
        {
            Assert.True(TimeProvider.System.GetUtcNow() < deadline, $"Not true within {Patience.TotalSeconds} s: {what}");
            // Watching the product's background loops from outside, as a WeChat server or a client would.
            await Task.Delay(20);
        }
    }

    public T GetRequiredService<T>()
        where T : notnull => App.Services.GetRequiredService<T>();

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        Http.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
        _ownedData?.Dispose();
    }
}
