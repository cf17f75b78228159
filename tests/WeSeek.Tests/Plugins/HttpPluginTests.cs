using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WeSeek.Messaging;
using WeSeek.Plugins;
using WeSeek.Plugins.Http;
using WeSeek.Security;
using WeSeek.TestKit;

namespace WeSeek.Tests.Plugins;

/// <summary>
/// The HTTP API plugin, registered as the host registers it, against a real Kestrel server over loopback:
/// placeholders, bodies, kept fields, time limit (on virtual time), size cap, errors, and secrets kept out of logs.
/// </summary>
public sealed class HttpPluginTests : IAsyncLifetime
{
    private const string Secret = "sk-weather-7731-do-not-log";

    private readonly ApiServer _server = new();
    private readonly CapturingLoggerProvider _logs = new();
    private CoreHarness _harness = null!;
    private Dictionary<string, string?> _settings = null!;

    public async ValueTask InitializeAsync()
    {
        await _server.StartAsync();
        var api = _server.BaseUrl.ToString().TrimEnd('/');
        _settings = new Dictionary<string, string?>
        {
            ["Plugins:Http:Secrets:WEATHER_TOKEN"] = Secret,
            ["Plugins:Http:Endpoints:weather:Url"] = api + "/weather/{city}",
            ["Plugins:Http:Endpoints:weather:Headers:Authorization"] = "Bearer {secret:WEATHER_TOKEN}",
            ["Plugins:Http:Endpoints:weather:Keep:0"] = "data.city",
            ["Plugins:Http:Endpoints:weather:Keep:1"] = "data.items[0].name",
            ["Plugins:Http:Endpoints:weather:Keep:2"] = "data.items[0].temp",
            ["Plugins:Http:Endpoints:weather:Keep:3"] = "data.nowhere",
            ["Plugins:Http:Endpoints:search:Url"] = api + "/search?q={q}&lang=zh",
            ["Plugins:Http:Endpoints:search:Keep:0"] = "q",
            ["Plugins:Http:Endpoints:物流查询:Intent"] = "order_search",
            ["Plugins:Http:Endpoints:物流查询:Method"] = "POST",
            ["Plugins:Http:Endpoints:物流查询:Url"] = api + "/orders/search",
            ["Plugins:Http:Endpoints:物流查询:Headers:X-Api-Key"] = "{secret:WEATHER_TOKEN}",
            ["Plugins:Http:Endpoints:物流查询:Body"] = """{"order": "{order_id}", "source": "weseek"}""",
            ["Plugins:Http:Endpoints:物流查询:Keep:0"] = "received.order",
            ["Plugins:Http:Endpoints:物流查询:Keep:1"] = "received.source",
            ["Plugins:Http:Endpoints:slow:Url"] = api + "/slow",
            ["Plugins:Http:Endpoints:slow:Headers:Authorization"] = "Bearer {secret:WEATHER_TOKEN}",
            ["Plugins:Http:Endpoints:slow:Timeout"] = "00:00:02",
            ["Plugins:Http:Endpoints:big:Url"] = api + "/big",
            ["Plugins:Http:Endpoints:big:MaxResponseBytes"] = "65536",
            ["Plugins:Http:Endpoints:declared:Url"] = api + "/declared",
            ["Plugins:Http:Endpoints:declared:MaxResponseBytes"] = "65536",
            ["Plugins:Http:Endpoints:fail:Url"] = api + "/fail",
            ["Plugins:Http:Endpoints:fail:Headers:Authorization"] = "Bearer {secret:WEATHER_TOKEN}",
            ["Plugins:Http:Endpoints:closed:Url"] = $"http://127.0.0.1:{TestHttp.FreePort()}/track/{{parcel}}",
            ["Plugins:Http:Endpoints:closed:Headers:Authorization"] = "Bearer {secret:WEATHER_TOKEN}",
            ["Plugins:Http:Endpoints:redirect:Url"] = api + "/redirect",
            ["Plugins:Http:Endpoints:redirect:Headers:X-Api-Key"] = "{secret:WEATHER_TOKEN}",
        };
        _harness = await CreateHarnessAsync(_settings);
    }

    public async ValueTask DisposeAsync()
    {
        await _harness.DisposeAsync();
        await _server.DisposeAsync();
    }

    private Task<CoreHarness> CreateHarnessAsync(Dictionary<string, string?> settings) =>
        CoreHarness.CreateAsync(settings: settings, configure: services =>
        {
            services.AddLogging(logging => logging.AddProvider(_logs).SetMinimumLevel(LogLevel.Trace));
            new Builder(services, settings).AddHttpPlugin();
        });

    private IWeSeekPlugin Plugin => _harness.Services.GetServices<IWeSeekPlugin>().Single(p => p.Name == "http");

    private static PluginContext Context(string intent, params (string Name, string Value)[] slots)
    {
        var message = new InboundMessage(ChannelId.From("wechat"), "acct", "m1", "alice", "alice", "北京天气怎么样", CoreHarness.Start);
        return new PluginContext(message, "wechat/acct/alice")
        {
            Intent = new TurnIntent(intent, slots.ToDictionary(s => s.Name, s => s.Value), IntentSource.Rule, 1),
        };
    }

    [Fact]
    public async Task Get_WithAPlaceholderAndASecretHeader_KeepsOnlyTheConfiguredFieldsAndCitesTheEndpoint()
    {
        var result = await Plugin.TryHandleAsync(Context("weather", ("city", "北京")), TestContext.Current.CancellationToken);

        var passage = Assert.Single(result!.Passages);
        Assert.Equal("接口「weather」（city = 北京）的结果：\ndata.city：北京\ndata.items[0].name：晴\ndata.items[0].temp：21", passage.Text);
        Assert.DoesNotContain("internal-debug", passage.Text, StringComparison.Ordinal);
        Assert.Equal("weather", passage.Source);
        Assert.Equal(["来源：weather"], result.Citations);
        var request = Assert.Single(_server.Requests);
        Assert.Equal("/weather/" + Uri.EscapeDataString("北京"), request.Target);
        Assert.Equal("Bearer " + Secret, request.Authorization);
    }

    [Theory]
    [InlineData("a&lang=en#frag")]
    [InlineData("x/../../admin?debug=1")]
    [InlineData("100% 真的")]
    public async Task UrlPlaceholder_IsUrlEncoded_SoASlotCannotAddAQueryParameterOrPathSegment(string value)
    {
        var result = await Plugin.TryHandleAsync(Context("search", ("q", value)), TestContext.Current.CancellationToken);

        Assert.Contains("q：" + value, Assert.Single(result!.Passages).Text, StringComparison.Ordinal);
        var request = Assert.Single(_server.Requests);
        Assert.Equal("/search?q=" + Uri.EscapeDataString(value) + "&lang=zh", request.Target);
    }

    [Theory]
    [InlineData("..")]
    [InlineData(".")]
    [InlineData(" ")]
    public async Task SlotThatIsADotSegmentOrBlank_OrMissing_CallsNothing(string city)
    {
        Assert.Null(await Plugin.TryHandleAsync(Context("weather", ("city", city)), TestContext.Current.CancellationToken));
        Assert.Null(await Plugin.TryHandleAsync(Context("weather", ("town", "北京")), TestContext.Current.CancellationToken));
        Assert.Null(await Plugin.TryHandleAsync(Context("no_such_intent", ("city", "北京")), TestContext.Current.CancellationToken));
        Assert.Null(await Plugin.TryHandleAsync(new PluginContext(Context("x").Message, "k"), TestContext.Current.CancellationToken));
        Assert.Empty(_server.Requests);
    }

    [Fact]
    public async Task Post_SendsTheBodyTemplate_WithTheSlotJsonEscaped()
    {
        const string hostile = "10023\", \"admin\": true, \"x\": \"";

        var result = await Plugin.TryHandleAsync(Context("order_search", ("order_id", hostile)), TestContext.Current.CancellationToken);

        var request = Assert.Single(_server.Requests);
        Assert.Equal("POST", request.Method);
        Assert.Equal(Secret, request.ApiKey);
        var body = JsonNode.Parse(request.Body)!.AsObject();
        Assert.Equal(hostile, (string?)body["order"]);
        Assert.Equal("weseek", (string?)body["source"]);
        Assert.Equal(2, body.Count);
        var passage = Assert.Single(result!.Passages);
        Assert.Contains("received.source：weseek", passage.Text, StringComparison.Ordinal);
        Assert.Equal(["来源：物流查询"], result.Citations);
    }

    [Fact]
    public async Task Timeout_ServerThatDoesNotAnswer_IsGivenUpAtTheEndpointsLimit()
    {
        var call = Plugin.TryHandleAsync(Context("slow"), TestContext.Current.CancellationToken);
        await _server.SlowReceived.Task.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        Assert.False(call.IsCompleted);

        _harness.Time.Advance(TimeSpan.FromSeconds(2));

        var error = await Assert.ThrowsAsync<HttpEndpointException>(() => call);
        Assert.Equal("Endpoint slow did not answer within 00:00:02", error.Message);
        await _server.SlowAborted.Task.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task SizeCap_StreamedBodyPastTheCap_IsRefusedAndReadingStops()
    {
        var error = await Assert.ThrowsAsync<HttpEndpointException>(() => Plugin.TryHandleAsync(Context("big"), TestContext.Current.CancellationToken));

        Assert.Contains("more than its cap of 65536 bytes", error.Message, StringComparison.Ordinal);
        // The body is a gigabyte: the call came back at the cap, and the server saw the connection dropped.
        await _server.BigEnded.Task.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task SizeCap_DeclaredContentLengthPastTheCap_IsRefusedBeforeReading()
    {
        var error = await Assert.ThrowsAsync<HttpEndpointException>(() => Plugin.TryHandleAsync(Context("declared"), TestContext.Current.CancellationToken));

        Assert.Equal($"Endpoint declared answered {ApiServer.DeclaredLength} bytes, more than its cap of 65536", error.Message);
    }

    [Fact]
    public async Task Non2xx_IsAFailureNamingTheStatus_AndARedirectIsNotFollowed()
    {
        var failed = await Assert.ThrowsAsync<HttpEndpointException>(() => Plugin.TryHandleAsync(Context("fail"), TestContext.Current.CancellationToken));
        var redirected = await Assert.ThrowsAsync<HttpEndpointException>(() => Plugin.TryHandleAsync(Context("redirect"), TestContext.Current.CancellationToken));

        Assert.Equal("Endpoint fail answered HTTP 500", failed.Message);
        Assert.Equal("Endpoint redirect answered HTTP 302", redirected.Message);
        Assert.Equal(["/fail", "/redirect"], _server.Requests.Select(r => r.Target));
    }

    [Fact]
    public async Task Unreachable_IsAFailureNamingTheEndpoint_NotTheUrlWithTheUsersSlot()
    {
        var error = await Assert.ThrowsAsync<HttpEndpointException>(() => Plugin.TryHandleAsync(Context("closed", ("parcel", "SF1234567890")), TestContext.Current.CancellationToken));

        Assert.Equal("Endpoint closed could not be reached (ConnectionError)", error.Message);
        Assert.DoesNotContain("SF1234567890", error.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Secret_ReachesTheServer_ButNoLogExceptionOrAuditedConfigurationHoldsIt()
    {
        var errors = new List<Exception>();
        await Plugin.TryHandleAsync(Context("weather", ("city", "北京")), TestContext.Current.CancellationToken);
        await Plugin.TryHandleAsync(Context("order_search", ("order_id", "10023")), TestContext.Current.CancellationToken);
        errors.Add(await Assert.ThrowsAsync<HttpEndpointException>(() => Plugin.TryHandleAsync(Context("fail"), TestContext.Current.CancellationToken)));
        errors.Add(await Assert.ThrowsAsync<HttpEndpointException>(() => Plugin.TryHandleAsync(Context("redirect"), TestContext.Current.CancellationToken)));
        var slow = Plugin.TryHandleAsync(Context("slow"), TestContext.Current.CancellationToken);
        await _server.SlowReceived.Task.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        _harness.Time.Advance(TimeSpan.FromSeconds(2));
        errors.Add(await Assert.ThrowsAsync<HttpEndpointException>(() => slow));

        Assert.All(_server.Requests.Where(r => r.Target.StartsWith("/weather", StringComparison.Ordinal) || r.Target == "/slow" || r.Target == "/fail"),
            r => Assert.Equal("Bearer " + Secret, r.Authorization));
        Assert.All(_server.Requests.Where(r => r.Target is "/orders/search" or "/redirect"), r => Assert.Equal(Secret, r.ApiKey));
        var logged = string.Join('\n', _logs.Lines);
        Assert.Contains("weather", logged, StringComparison.Ordinal); // the plugin does log its calls, at Debug
        Assert.DoesNotContain(Secret, logged, StringComparison.Ordinal);
        Assert.DoesNotContain("北京", logged, StringComparison.Ordinal);
        Assert.All(errors, e => Assert.DoesNotContain(Secret, e.ToString(), StringComparison.Ordinal));
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(_settings).Build();
        Assert.DoesNotContain(Secret, Redaction.RedactedConfiguration(configuration).ToJsonString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Url", "http://127.0.0.1:1/x?key={secret:WEATHER_TOKEN}", "Plugins:Http:Endpoints:bad:Url", "URLs end up in logs")]
    [InlineData("Url", "http://{host}/x", "Plugins:Http:Endpoints:bad:Url", "scheme or host")]
    [InlineData("Url", "ftp://127.0.0.1/x", "Plugins:Http:Endpoints:bad:Url", "absolute http or https")]
    [InlineData("Method", "DELETE", "Plugins:Http:Endpoints:bad:Method", "GET or POST")]
    [InlineData("Headers:Authorization", "Bearer {secret:NO_SUCH_SECRET_4417}", "Plugins:Http:Endpoints:bad:Headers:Authorization", "secret NO_SUCH_SECRET_4417")]
    [InlineData("Headers:X-User", "{user}", "Plugins:Http:Endpoints:bad:Headers:X-User", "only {secret:NAME}")]
    [InlineData("Keep:0", "data..name", "Plugins:Http:Endpoints:bad:Keep", "not a field path")]
    [InlineData("Intent", "weather2", "Plugins:Http:Endpoints", "intent 'weather2' is served by endpoints")]
    public async Task Validation_BadEndpoint_StopsStartUpNamingTheKey(string member, string value, string key, string reason)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Plugins:Http:Endpoints:bad:Url"] = "http://127.0.0.1:1/x",
            ["Plugins:Http:Endpoints:weather2:Url"] = "http://127.0.0.1:1/weather",
            [$"Plugins:Http:Endpoints:bad:{member}"] = value,
        };
        await using var harness = await CreateHarnessAsync(settings);

        var error = Assert.Throws<OptionsValidationException>(() => harness.Services.GetRequiredService<IOptions<HttpPluginOptions>>().Value);

        Assert.Contains(key, error.Message, StringComparison.Ordinal);
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void HasHttpPlugin_OnlyWhenEndpointsAreConfigured()
    {
        Assert.True(new ConfigurationBuilder().AddInMemoryCollection(_settings).Build().HasHttpPlugin());
        Assert.False(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Plugins:Http:Timeout"] = "00:00:01" }).Build().HasHttpPlugin());
    }

    private sealed class Builder(IServiceCollection services, IDictionary<string, string?> settings) : IWeSeekBuilder
    {
        public IServiceCollection Services { get; } = services;

        public IConfiguration Configuration { get; } = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
    }

    private sealed class CapturingLoggerProvider : ILoggerProvider
    {
        public ConcurrentQueue<string> Lines { get; } = new();

        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

        public void Dispose()
        {
        }

        private sealed class Logger(CapturingLoggerProvider owner, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull
            {
                owner.Lines.Enqueue($"{category} scope {state}");
                return null;
            }

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                owner.Lines.Enqueue($"{category} {eventId.Id} {formatter(state, exception)} {state} {exception}");
        }
    }

    /// <summary>An API on Kestrel at a loopback port; records what each request carried.</summary>
    private sealed class ApiServer : IAsyncDisposable
    {
        public const long BigTotal = 1024L * 1024 * 1024;
        public const long DeclaredLength = 10L * 1024 * 1024;

        private WebApplication? _app;

        public Uri BaseUrl { get; private set; } = null!;

        public ConcurrentQueue<(string Method, string Target, string? Authorization, string? ApiKey, string Body)> Requests { get; } = new();

        public TaskCompletionSource SlowReceived { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource SlowAborted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource BigEnded { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public async Task StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            builder.Logging.ClearProviders();
            _app = builder.Build();
            _app.Use(async (context, next) =>
            {
                using var reader = new StreamReader(context.Request.Body);
                var body = await reader.ReadToEndAsync(context.RequestAborted);
                Requests.Enqueue((context.Request.Method, context.Features.GetRequiredFeature<IHttpRequestFeature>().RawTarget,
                    context.Request.Headers.Authorization.FirstOrDefault(), context.Request.Headers["X-Api-Key"].FirstOrDefault(), body));
                context.Items["body"] = body;
                await next(context);
            });
            _app.MapGet("/weather/{city}", (string city) => Results.Json(new
            {
                data = new { city, items = new object[] { new { name = "晴", temp = 21 }, new { name = "雨", temp = 18 } } },
                debug = "internal-debug",
            }));
            _app.MapGet("/search", (string q) => Results.Json(new { q }));
            _app.MapPost("/orders/search", (HttpContext context) => Results.Json(new { received = JsonNode.Parse((string)context.Items["body"]!) }));
            _app.MapGet("/slow", async (HttpContext context) =>
            {
                SlowReceived.TrySetResult();
                try
                {
                    await Task.Delay(Timeout.Infinite, context.RequestAborted);
                }
                catch (OperationCanceledException)
                {
                    SlowAborted.TrySetResult();
                }
            });
            _app.MapGet("/big", async (HttpContext context) =>
            {
                var chunk = new byte[64 * 1024];
                Array.Fill(chunk, (byte)'x');
                try
                {
                    // After the client has gone, Kestrel completes writes at once without an error until the abort
                    // token is set (on another thread): what was written says nothing about what was read.
                    for (long written = 0; written < BigTotal && !context.RequestAborted.IsCancellationRequested; written += chunk.Length)
                    {
                        var flushed = await context.Response.BodyWriter.WriteAsync(chunk, context.RequestAborted);
                        if (flushed.IsCompleted || flushed.IsCanceled)
                        {
                            break;
                        }
                    }
                }
                catch (Exception ex) when (ex is OperationCanceledException or IOException)
                {
                }
                finally
                {
                    BigEnded.TrySetResult();
                }
            });
            _app.MapGet("/declared", async (HttpContext context) =>
            {
                context.Response.ContentLength = DeclaredLength;
                try
                {
                    await context.Response.Body.WriteAsync(new byte[DeclaredLength], context.RequestAborted);
                }
                catch (Exception ex) when (ex is OperationCanceledException or IOException)
                {
                }
            });
            _app.MapGet("/fail", () => Results.Json(new { error = "boom" }, statusCode: 500));
            _app.MapGet("/redirect", () => Results.Redirect("/weather/%E5%8C%97%E4%BA%AC"));
            await _app.StartAsync();
            var address = _app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
            BaseUrl = new Uri(address);
        }

        public async ValueTask DisposeAsync()
        {
            if (_app is not null)
            {
                await _app.DisposeAsync();
            }
        }
    }
}
