using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace WeSeek.TestKit;

/// <summary>
/// A tiny OpenAI-compatible server (<c>POST /v1/chat/completions</c>, buffered and SSE streaming) on Kestrel
/// at a loopback port, written from the OpenAI Chat Completions wire format as vLLM, SGLang and llama-server
/// speak it. A script turns each request's messages into content chunks; every request body is recorded.
/// </summary>
public sealed class FakeOpenAiServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly List<JsonObject> _requests = [];
    private readonly List<string?> _authorizations = [];

    private FakeOpenAiServer(WebApplication app) => _app = app;

    /// <summary>Chunks for a request: its messages as (role, content) pairs.</summary>
    public Func<IReadOnlyList<(string Role, string Content)>, IReadOnlyList<string>> Script { get; set; } =
        messages => ["<think>\n嗯。\n</think>\n\n", "你说：", ScriptedChatClient.UserText(messages[^1].Content)];

    /// <summary>Delay before each streamed chunk (slow models, for tests that interrupt turns).</summary>
    public TimeSpan ChunkDelay { get; set; }

    /// <summary>When true, every request gets 503 (a replica that is down or overloaded).</summary>
    public bool Down { get; set; }

    /// <summary>
    /// Awaited after a request is recorded and before it is answered (a model that is slow to answer, for tests
    /// of timeouts); gets the request's abort token. Default none.
    /// </summary>
    public Func<CancellationToken, Task>? BeforeAnswer { get; set; }

    /// <summary>The Authorization header of each request received, in order (null when absent).</summary>
    public IReadOnlyList<string?> Authorizations
    {
        get
        {
            lock (_requests)
            {
                return [.. _authorizations];
            }
        }
    }

    /// <summary>The base URL, ending in <c>/v1</c>.</summary>
    public Uri BaseUrl { get; private set; } = null!;

    /// <summary>Request bodies received, in order.</summary>
    public IReadOnlyList<JsonObject> Requests
    {
        get
        {
            lock (_requests)
            {
                return [.. _requests];
            }
        }
    }

    public static async Task<FakeOpenAiServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var server = new FakeOpenAiServer(app);
        app.MapPost("/v1/chat/completions", server.HandleAsync);
        // GET /v1/models, which every OpenAI-compatible server answers: WeSeek's probe and ready check ask it.
        app.MapGet("/v1/models", (HttpContext context) => server.Down
            ? Results.StatusCode(StatusCodes.Status503ServiceUnavailable)
            : Results.Json(new { @object = "list", data = new[] { new { id = "deepseek-r1", @object = "model", owned_by = "fake" } } }));
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        server.BaseUrl = new Uri(address.TrimEnd('/') + "/v1");
        return server;
    }

    private async Task HandleAsync(HttpContext context)
    {
        if (Down)
        {
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            return;
        }

        var body = (await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted))!.AsObject();
        lock (_requests)
        {
            _requests.Add(body);
            _authorizations.Add(context.Request.Headers.Authorization.FirstOrDefault());
        }

        if (BeforeAnswer is { } wait)
        {
            await wait(context.RequestAborted);
        }

        var messages = body["messages"]!.AsArray()
            .Select(m => (m!["role"]!.GetValue<string>(), ContentOf(m["content"])))
            .ToList();
        var chunks = Script(messages);
        var model = body["model"]?.GetValue<string>() ?? "fake";
        var id = "chatcmpl-" + Guid.NewGuid().ToString("N");
        if (body["stream"]?.GetValue<bool>() != true)
        {
            await context.Response.WriteAsJsonAsync(new
            {
                id,
                @object = "chat.completion",
                created = 1_700_000_000,
                model,
                choices = new[] { new { index = 0, message = new { role = "assistant", content = string.Concat(chunks) }, finish_reason = "stop" } },
                usage = new { prompt_tokens = 10, completion_tokens = chunks.Count, total_tokens = 10 + chunks.Count },
            });
            return;
        }

        context.Response.ContentType = "text/event-stream";
        foreach (var chunk in chunks)
        {
            if (ChunkDelay > TimeSpan.Zero)
            {
                await Task.Delay(ChunkDelay, context.RequestAborted);
            }

            await WriteEventAsync(context, new { id, @object = "chat.completion.chunk", created = 1_700_000_000, model, choices = new[] { new { index = 0, delta = new { role = "assistant", content = chunk }, finish_reason = (string?)null } } });
        }

        await WriteEventAsync(context, new { id, @object = "chat.completion.chunk", created = 1_700_000_000, model, choices = new[] { new { index = 0, delta = new { }, finish_reason = "stop" } } });
        await context.Response.WriteAsync("data: [DONE]\n\n", context.RequestAborted);
    }

    private static async Task WriteEventAsync(HttpContext context, object payload)
    {
        await context.Response.WriteAsync("data: " + JsonSerializer.Serialize(payload) + "\n\n", context.RequestAborted);
        await context.Response.Body.FlushAsync(context.RequestAborted);
    }

    private static string ContentOf(JsonNode? content) => content switch
    {
        JsonValue value => value.GetValue<string>(),
        JsonArray parts => string.Concat(parts.Select(p => p?["text"]?.GetValue<string>() ?? "")),
        _ => "",
    };

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
