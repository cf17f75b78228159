using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace WeSeek.TestKit;

/// <summary>
/// What the fakes of WeChat's two server APIs (公众号, <see cref="FakeWeChatServer"/>; 企业微信,
/// <see cref="FakeWeComServer"/>) share: Kestrel at a loopback port, an access token that a test can expire,
/// scripted send errors, temporary media, and the calls received. All state is guarded by <see cref="Gate"/>, held
/// by every handler for the whole of its decision, so a call sees one consistent token, queue and media set. What
/// differs (routes, errcodes, what a call records) is the protocol's and stays in the subclass.
/// </summary>
/// <typeparam name="TCall">What one call records; the two APIs answer and are checked differently.</typeparam>
public abstract class FakeWeChatApiServer<TCall> : IAsyncDisposable
{
    /// <summary>The token value after <see cref="ExpireToken"/>: the fakes answer 42001 (expired) for it.</summary>
    protected const string ExpiredToken = "expired";

    private readonly List<TCall> _calls = [];
    private readonly Queue<int> _sendErrors = new();
    private readonly Dictionary<string, (byte[] Data, string MediaType)> _media = [];
    private WebApplication? _app;
    private int _tokens;

    /// <summary>The API base URL (<c>OfficialAccount:ApiBaseUrl</c>, <c>WeCom:ApiBaseUrl</c>).</summary>
    public Uri BaseUrl { get; private set; } = null!;

    /// <summary>The token currently valid; a call with another is refused with the protocol's errcode.</summary>
    public string CurrentToken { get; private set; } = "";

    /// <summary>Calls received, in order.</summary>
    public IReadOnlyList<TCall> Calls
    {
        get
        {
            lock (Gate)
            {
                return [.. _calls];
            }
        }
    }

    /// <summary>Guards every piece of state; handlers hold it while they decide and record.</summary>
    protected object Gate { get; } = new();

    /// <summary>How many calls were recorded; read under <see cref="Gate"/>.</summary>
    protected int CallCount => _calls.Count;

    /// <summary>Makes the current token invalid, as WeChat does when it drops a token early (the next send gets 42001).</summary>
    public void ExpireToken()
    {
        lock (Gate)
        {
            CurrentToken = ExpiredToken;
        }
    }

    /// <summary>The next sends answer these errcodes, in order.</summary>
    public void FailNextSends(params int[] errcodes)
    {
        ArgumentNullException.ThrowIfNull(errcodes);
        lock (Gate)
        {
            foreach (var code in errcodes)
            {
                _sendErrors.Enqueue(code);
            }
        }
    }

    /// <summary>Makes <paramref name="data"/> downloadable as temporary media <paramref name="mediaId"/>.</summary>
    public void AddMedia(string mediaId, byte[] data, string mediaType)
    {
        lock (Gate)
        {
            _media[mediaId] = (data, mediaType);
        }
    }

    /// <summary>Maps the protocol's routes and starts listening; <see cref="BaseUrl"/> is set when it returns.</summary>
    protected async Task ListenAsync(Action<WebApplication> mapRoutes)
    {
        ArgumentNullException.ThrowIfNull(mapRoutes);
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        _app = builder.Build();
        mapRoutes(_app);
        await _app.StartAsync();
        BaseUrl = new Uri(_app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First().TrimEnd('/') + "/");
    }

    /// <summary>Issues a new token, <paramref name="prefix"/> and a counter; call under <see cref="Gate"/>.</summary>
    protected string IssueToken(string prefix)
    {
        CurrentToken = prefix + (++_tokens).ToString(CultureInfo.InvariantCulture);
        return CurrentToken;
    }

    /// <summary>Records a call; call under <see cref="Gate"/>.</summary>
    protected void Record(TCall call) => _calls.Add(call);

    /// <summary>The next scripted send error, if any; call under <see cref="Gate"/>.</summary>
    protected bool TryTakeSendError(out int errcode) => _sendErrors.TryDequeue(out errcode);

    /// <summary>Temporary media added by the test; call under <see cref="Gate"/>.</summary>
    protected bool TryGetMedia(string mediaId, out (byte[] Data, string MediaType) media) => _media.TryGetValue(mediaId, out media);

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        GC.SuppressFinalize(this);
    }
}
