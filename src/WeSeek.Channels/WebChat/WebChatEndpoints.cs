using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using WeSeek.Channels.WebChat;
using WeSeek.Conversations;
using WeSeek.Feedback;
using WeSeek.Messaging;
using WeSeek.Operations;
using WeSeek.Streaming;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps the web chat page and its API.</summary>
public static class WebChatEndpoints
{
    private const string PageResource = "WeSeek.Channels.WebChat.index.html";

    /// <summary>Maps <c>GET /</c> (the page) and <c>/api/webchat/…</c>: post a message, list chats, read a
    /// chat, and an event stream (SSE) of reasoning and answer tokens and stored replies. Each reaches only the
    /// asking visitor's own chats (<see cref="WebChatVisitor"/>).</summary>
    public static IEndpointRouteBuilder MapWebChat(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var options = endpoints.ServiceProvider.GetRequiredService<IOptions<WebChatOptions>>().Value;
        if (!options.Enabled)
        {
            return endpoints;
        }

        // The password first: a visitor id is given only to someone let in.
        endpoints.MapGet("/", ServePage).AddEndpointFilter(PasswordAsync).AddEndpointFilter(VisitorAsync);
        var api = endpoints.MapGroup("/api/webchat").AddEndpointFilter(PasswordAsync).AddEndpointFilter(VisitorAsync);
        // Reached with a password set and a session already open (the gate answers the login itself).
        api.MapPost("/login", (WebChatPasswordGate gate) => gate.Enabled
            ? Results.Redirect("/", permanent: false)
            : TypedResults.Problem(detail: "The web chat has no password (WebChat:Password).", statusCode: StatusCodes.Status404NotFound));
        api.MapPost("/messages", PostMessageAsync);
        api.MapGet("/chats", ListChatsAsync);
        // The page limits its input to maxMessageLength, so a long message is refused before it is sent. Only notices
        // meant for visitors: the rest (a WeChat account to scan again, its backup's name) are for the console.
        api.MapGet("/status", (IOperatorNotices notices, IOptionsMonitor<WebChatOptions> current) =>
            TypedResults.Ok(new { notices = notices.ForVisitors, maxMessageLength = current.CurrentValue.MaxMessageLength }));
        api.MapGet("/chats/{chatId}/messages", ReadChatAsync);
        api.MapDelete("/chats/{chatId}", DeleteChatAsync);
        api.MapGet("/chats/{chatId}/events", StreamEvents);
        api.MapPost("/chats/{chatId}/feedback", PostFeedbackAsync);
        return endpoints;
    }

    private static async ValueTask<object?> PasswordAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next) =>
        await context.HttpContext.RequestServices.GetRequiredService<WebChatPasswordGate>().AdmitAsync(context.HttpContext)
            ? await next(context)
            : Results.Empty;

    private static ValueTask<object?> VisitorAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        // Resolved before the endpoint writes anything, so a new visitor's cookie goes out with the headers.
        WebChatVisitor.Of(context.HttpContext);
        return next(context);
    }

    private static Microsoft.AspNetCore.Http.HttpResults.FileStreamHttpResult ServePage()
    {
        var stream = typeof(WebChatChannel).Assembly.GetManifestResourceStream(PageResource)
            ?? throw new InvalidOperationException($"The web chat page ({PageResource}) is missing from the build.");
        return TypedResults.Stream(stream, "text/html; charset=utf-8");
    }

    private static async Task<IResult> PostMessageAsync(PostMessageRequest? request, WebChatChannel channel, HttpContext context, CancellationToken cancellationToken)
    {
        if (request is null)
        {
            return TypedResults.Problem(detail: "Send JSON: {\"chatId\", \"clientMessageId\", \"text\"}.", statusCode: StatusCodes.Status400BadRequest, title: "Bad request");
        }

        var result = await channel.AcceptAsync(WebChatVisitor.Of(context), request.ChatId ?? "", request.ClientMessageId ?? "", request.Text ?? "", cancellationToken);
        return result.Outcome switch
        {
            AcceptOutcome.Rejected when result.Reason?.StartsWith("The web chat is not running", StringComparison.Ordinal) == true =>
                TypedResults.Problem(detail: result.Reason, statusCode: StatusCodes.Status503ServiceUnavailable, title: "Not running"),
            AcceptOutcome.Rejected => TypedResults.Problem(detail: result.Reason, statusCode: StatusCodes.Status400BadRequest, title: "Message refused"),
            _ => TypedResults.Accepted((string?)null, new PostMessageResponse(result.InboxId, result.Outcome == AcceptOutcome.Duplicate)),
        };
    }

    private static async Task<IResult> ListChatsAsync(ITranscriptReader transcripts, HttpContext context, CancellationToken cancellationToken)
    {
        var visitor = WebChatVisitor.Of(context);
        var chats = await transcripts.ListChatsAsync(WebChatChannel.ChannelId, visitor.Prefix, 100, cancellationToken);
        return TypedResults.Ok(chats
            .Select(c => visitor.Unscope(c.ChatId) is { } own ? c with { ChatId = own } : null)
            .OfType<ChatSummary>()
            .Select(WebChatMessageMapper.ToJson));
    }

    private static async Task<IResult> ReadChatAsync(string chatId, ITranscriptReader transcripts, IOptions<WebChatOptions> options, HttpContext context, CancellationToken cancellationToken)
    {
        if (!WebChatMessageMapper.IsValidId(chatId))
        {
            return TypedResults.Problem(detail: "chatId must be 1-64 characters of letters, digits, '-' or '_'.", statusCode: StatusCodes.Status400BadRequest);
        }

        var entries = await transcripts.ReadAsync(WebChatChannel.ChannelId, WebChatVisitor.Of(context).Scope(chatId), options.Value.HistoryLimit, cancellationToken);
        return TypedResults.Ok(entries.Select(WebChatMessageMapper.ToJson));
    }

    /// <summary>Erases the visitor's own chat on the server. Only <c>{visitor}.{chatId}</c> can be named, so another
    /// visitor's chat id names nothing of theirs here and is answered 404, as a chat that never existed is.</summary>
    private static async Task<IResult> DeleteChatAsync(string chatId, HttpContext context, CancellationToken cancellationToken)
    {
        if (!WebChatMessageMapper.IsValidId(chatId))
        {
            return TypedResults.Problem(detail: "chatId must be 1-64 characters of letters, digits, '-' or '_'.", statusCode: StatusCodes.Status400BadRequest);
        }

        if (context.RequestServices.GetService<IChatEraser>() is not { } eraser)
        {
            return TypedResults.Problem(detail: "This server does not erase chats.", statusCode: StatusCodes.Status501NotImplemented);
        }

        return await eraser.EraseAsync(WebChatChannel.ChannelId, WebChatVisitor.Of(context).Scope(chatId), cancellationToken) switch
        {
            ChatErasure.Erased => TypedResults.Ok(new { chatId, deleted = true }),
            ChatErasure.Busy => TypedResults.Problem(
                detail: "这个会话还在回答中，答完后再删除。This chat is still being answered: delete it once the answer has arrived. Nothing was deleted.",
                statusCode: StatusCodes.Status409Conflict),
            _ => TypedResults.Problem(detail: "没有这个会话 No such chat: it was never stored, or is already deleted.", statusCode: StatusCodes.Status404NotFound),
        };
    }

    /// <summary>👍/👎 on one answer of the visitor's own chat, with an optional correction.</summary>
    private static async Task<IResult> PostFeedbackAsync(string chatId, PostFeedbackRequest? request, HttpContext context, CancellationToken cancellationToken)
    {
        if (!WebChatMessageMapper.IsValidId(chatId))
        {
            return TypedResults.Problem(detail: "chatId must be 1-64 characters of letters, digits, '-' or '_'.", statusCode: StatusCodes.Status400BadRequest);
        }

        if (request is not { InboxId: > 0 } || request.Kind is not ("up" or "down"))
        {
            return TypedResults.Problem(detail: "Send JSON: {\"inboxId\": the answered message, \"kind\": \"up\" or \"down\", \"correction\": optional text}.", statusCode: StatusCodes.Status400BadRequest, title: "Bad request");
        }

        if (context.RequestServices.GetService<IAnswerFeedback>() is not { } feedback)
        {
            return TypedResults.Problem(detail: "Feedback is not recorded by this server.", statusCode: StatusCodes.Status404NotFound);
        }

        var kind = request.Kind == "up" ? FeedbackKind.Up : FeedbackKind.Down;
        return await feedback.RecordAsync(new AnswerFeedback(WebChatChannel.ChannelId, WebChatVisitor.Of(context).Scope(chatId), request.InboxId, kind, request.Correction), cancellationToken) switch
        {
            FeedbackOutcome.Recorded => TypedResults.Ok(new { recorded = true }),
            FeedbackOutcome.TooLong => TypedResults.Problem(detail: "The correction is too long (Feedback:MaxCorrectionLength).", statusCode: StatusCodes.Status400BadRequest, title: "Correction refused"),
            _ => TypedResults.Problem(detail: $"This chat has no answer to message {request.InboxId} that can be rated.", statusCode: StatusCodes.Status404NotFound, title: "No such answer"),
        };
    }

    private static IResult StreamEvents(string chatId, WebChatChannel channel, IReplyStreamHub stream, TimeProvider time, HttpContext context, CancellationToken cancellationToken)
    {
        if (!WebChatMessageMapper.IsValidId(chatId))
        {
            return TypedResults.Problem(detail: "chatId must be 1-64 characters of letters, digits, '-' or '_'.", statusCode: StatusCodes.Status400BadRequest);
        }

        return TypedResults.ServerSentEvents(MergeAsync(chatId, WebChatVisitor.Of(context).Scope(chatId), channel, stream, time, cancellationToken));
    }

    /// <summary>Token deltas from the reply stream and stored replies from the channel, in one event stream,
    /// with a ping every 15 s so proxies keep the connection open.</summary>
    private static async IAsyncEnumerable<SseItem<object>> MergeAsync(string chatId, string storedChatId, WebChatChannel channel, IReplyStreamHub stream, TimeProvider time, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var merged = Channel.CreateBounded<SseItem<object>>(new BoundedChannelOptions(512) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var tokens = stream.Subscribe(WebChatChannel.ChannelId, storedChatId, cts.Token);
        var replies = channel.SubscribeReplies(storedChatId, cts.Token);
        var pumps = Task.WhenAll(
            PumpAsync(tokens, merged.Writer, ToSse, cts.Token),
            PumpAsync(replies, merged.Writer, ToSse, cts.Token),
            PingAsync(merged.Writer, time, cts.Token));

        // The first event tells the page the stream is live, so it can reload history it may have missed.
        yield return new SseItem<object>(new { chatId }, "ready");
        try
        {
            await foreach (var item in merged.Reader.ReadAllAsync(cancellationToken))
            {
                yield return item;
            }
        }
        finally
        {
            await cts.CancelAsync();
            await pumps;
        }
    }

    private static async Task PumpAsync<T>(ChannelReader<T> source, ChannelWriter<SseItem<object>> target, Func<T, SseItem<object>> map, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var item in source.ReadAllAsync(cancellationToken))
            {
                target.TryWrite(map(item));
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static async Task PingAsync(ChannelWriter<SseItem<object>> target, TimeProvider time, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(15), time);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                target.TryWrite(new SseItem<object>(new { }, "ping"));
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static SseItem<object> ToSse(ReplyStreamEvent e) => e.Kind switch
    {
        ReplyStreamEventKind.Reasoning => new SseItem<object>(new { inboxId = e.InboxId, text = e.Text }, "reasoning"),
        ReplyStreamEventKind.Answer => new SseItem<object>(new { inboxId = e.InboxId, text = e.Text }, "answer"),
        _ => new SseItem<object>(new { inboxId = e.InboxId }, "completed"),
    };

    private static SseItem<object> ToSse(OutboundMessage m) =>
        new(new { outboxId = m.OutboxId, inboxId = m.InboxId, sequence = m.Sequence, text = m.Text }, "reply");

    internal sealed record PostMessageRequest(string? ChatId, string? ClientMessageId, string? Text);

    internal sealed record PostMessageResponse(long InboxId, bool Duplicate);

    internal sealed record PostFeedbackRequest(long InboxId, string? Kind, string? Correction);
}
