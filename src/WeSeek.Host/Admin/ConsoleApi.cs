using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using WeSeek.Conversations;
using WeSeek.Feedback;
using WeSeek.Hosting;
using WeSeek.Inference.Llama.Engine;
using WeSeek.Inference.Llama.Models;
using WeSeek.Knowledge;
using WeSeek.Messaging;
using WeSeek.Moderation;
using WeSeek.Operations;
using WeSeek.Outbox;
using WeSeek.Security;
using WeSeek.Storage.Sql;

namespace WeSeek.Host.Admin;

/// <summary>The console's pages, one API section each (the page at <c>/admin</c> draws them).</summary>
internal static partial class AdminEndpoints
{
    /// <summary>Messages a transcript shows at most: the newest ones.</summary>
    private const int TranscriptLimit = 500;

    // 概览 Overview: the charts and today's use of the daily cap.
    private static void MapOverview(RouteGroupBuilder api) =>
        api.MapGet("/metrics", async (string? range, MetricsHistory history, ConsoleQueries queries, DailyCapCalendar calendar, IOptions<OutboxOptions> outbox, TimeProvider time, CancellationToken cancellationToken) =>
        {
            if (range is not (null or "hour" or "day"))
            {
                return Results.Problem(detail: $"range '{range}' is not one the console keeps: use hour or day.", statusCode: StatusCodes.Status400BadRequest);
            }

            return TypedResults.Ok(new
            {
                range = range ?? "hour",
                stepSeconds = (int)(range == "day" ? MetricsHistory.DayStep : MetricsHistory.HourStep).TotalSeconds,
                points = history.Read(range == "day"),
                dailyCap = outbox.Value.DailyCap,
                dailyCapUse = await queries.DailyCapAsync(calendar.DayOf(time.GetUtcNow()), cancellationToken),
                moderationHits = history.ModerationHits(),
            });
        });

    // 会话 Conversations: the list is metadata (any role); a transcript is decrypted here, for operators, and every
    // read is in the audit log with the key's name.
    private static void MapConversations(RouteGroupBuilder api)
    {
        api.MapGet("/conversations", async (string? q, ConsoleQueries queries, CancellationToken cancellationToken) =>
            TypedResults.Ok(await queries.ChatsAsync(q, 200, cancellationToken)));

        api.MapGet("/conversations/transcript", async (string? chat, HttpContext http, ITranscriptReader transcripts, IFeedbackStore feedback, AuditLog audit, CancellationToken cancellationToken) =>
        {
            if (ParseChat(chat) is not { } key)
            {
                return BadChat();
            }

            var entries = await transcripts.ReadAsync(ChannelId.From(key.Channel), key.ChatId, TranscriptLimit, cancellationToken);
            // Users' 👍/👎 on answers in this chat, with their corrections: read with the transcript, audited with it.
            var ratings = new List<FeedbackRecord>();
            await foreach (var rating in feedback.ReadChatAsync(ChannelId.From(key.Channel), key.ChatId, cancellationToken))
            {
                ratings.Add(rating);
            }

            // The read is recorded before the text leaves the server.
            var auditId = await audit.AppendAsync("admin.transcript.read", new JsonObject { ["chat"] = chat, ["key"] = KeyName(http), ["messages"] = entries.Count, ["ratings"] = ratings.Count }, cancellationToken);
            return TypedResults.Ok(new
            {
                chat,
                auditId,
                entries = entries.Select(e => new { fromUser = e.FromUser, text = e.Text, at = e.At, delivered = e.Delivered }),
                feedback = ratings.Select(r => new { kind = r.Kind == FeedbackKind.Up ? "up" : "down", answer = r.Answer.Answer, correction = r.Correction, at = r.RatedAt }),
            });
        }).RequireRole(AdminRole.Operator);

        // Text search in transcripts: decrypted on the server, bounded (TranscriptSearch), for operators; the chats whose
        // words were shown are in the audit log with the key's name before the answer leaves, as a transcript read is.
        api.MapGet("/conversations/search", async (string? text, int? days, HttpContext http, TranscriptSearch search, AuditLog audit, CancellationToken cancellationToken) =>
        {
            if (string.IsNullOrWhiteSpace(text) || text.Trim().Length > 200)
            {
                return Results.Problem(detail: "Type 1-200 characters to find in the messages: ?text=…", statusCode: StatusCodes.Status400BadRequest);
            }

            if (days is < 1 or > TranscriptSearch.MaxDays)
            {
                return Results.Problem(detail: $"days must be 1-{TranscriptSearch.MaxDays}: a search looks at most that far back.", statusCode: StatusCodes.Status400BadRequest);
            }

            var found = await search.SearchAsync(text, days ?? 7, cancellationToken);
            var auditId = await audit.AppendAsync("admin.transcript.search", new JsonObject
            {
                ["key"] = KeyName(http),
                ["days"] = days ?? 7,
                ["scanned"] = found.Scanned,
                ["chats"] = new JsonArray([.. found.Chats.Select(c => (JsonNode?)JsonValue.Create(c.Chat))]),
            }, cancellationToken);
            return Results.Ok(new
            {
                auditId,
                chats = found.Chats.Select(c => new { chat = c.Chat, hits = c.Hits.Select(h => new { fromUser = h.FromUser, at = h.At, snippet = h.Snippet }) }),
                found.Scanned,
                found.Since,
                found.Truncated,
                maxScanned = TranscriptSearch.MaxScanned,
            });
        }).RequireRole(AdminRole.Operator);

        api.MapGet("/conversations/export", async (string? chat, HttpContext http, TranscriptExport export, AuditLog audit, CancellationToken cancellationToken) =>
        {
            if (ParseChat(chat) is null)
            {
                return BadChat();
            }

            await audit.AppendAsync("admin.transcript.export", new JsonObject { ["chat"] = chat, ["key"] = KeyName(http) }, cancellationToken);
            var text = new StringWriter(CultureInfo.InvariantCulture);
            await export.WriteAsync(text, decrypt: true, chat, cancellationToken);
            var file = "weseek-" + string.Concat(chat!.Select(c => char.IsAsciiLetterOrDigit(c) ? c : '-')) + ".jsonl";
            return Results.File(Encoding.UTF8.GetBytes(text.ToString()), "application/x-ndjson; charset=utf-8", file);
        }).RequireRole(AdminRole.Operator);

        api.MapPost("/conversations/reset", async (string? chat, IConversationStore store, CancellationToken cancellationToken) =>
        {
            if (ParseChat(chat) is null)
            {
                return BadChat();
            }

            // The conversation key of a one-to-one chat, or of a group whose members share one context.
            await store.ResetAsync(chat!, cancellationToken);
            return TypedResults.Ok(new { chat, reset = true });
        }).RequireRole(AdminRole.Operator);
    }

    // 密钥与审计 Keys and audit.
    private static void MapKeysAndAudit(RouteGroupBuilder api)
    {
        api.MapGet("/keys", async (AdminKeys keys, CancellationToken cancellationToken) =>
            TypedResults.Ok((await keys.ListAsync(cancellationToken)).Select(k => new { k.Id, k.Name, k.Prefix, k.CreatedAt, k.LastUsedAt, k.RevokedAt, role = k.Role.Name() })))
            .RequireRole(AdminRole.Admin);

        api.MapPost("/keys", async (CreateKeyRequest? request, AdminKeys keys, CancellationToken cancellationToken) =>
        {
            if (request is null || string.IsNullOrWhiteSpace(request.Name) || request.Name.Trim().Length > 100)
            {
                return Results.Problem(detail: "Give the key a name of 1-100 characters (who or what will use it).", statusCode: StatusCodes.Status400BadRequest);
            }

            if (!AdminRoles.TryParse(request.Role, out var role))
            {
                return Results.Problem(detail: $"'{request.Role}' is not a role: choose viewer, operator or admin.", statusCode: StatusCodes.Status400BadRequest);
            }

            var (key, info) = await keys.CreateAsync(request.Name, role, cancellationToken);
            return TypedResults.Ok(new { key, info.Id, info.Name, info.Prefix, role = role.Name() });
        }).RequireRole(AdminRole.Admin);

        api.MapDelete("/keys/{id:long}", async (long id, AdminKeys keys, CancellationToken cancellationToken) =>
            await keys.RevokeAsync(id, cancellationToken)
                ? Results.Ok(new { id, revoked = true })
                : Results.Problem(detail: $"No active key {id}: it does not exist or was already revoked.", statusCode: StatusCodes.Status404NotFound))
            .RequireRole(AdminRole.Admin);

        api.MapGet("/audit", async (string? kind, long? before, ConsoleQueries queries, CancellationToken cancellationToken) =>
            TypedResults.Ok(await queries.AuditAsync(kind, before, 50, cancellationToken)))
            .RequireRole(AdminRole.Operator);
    }

    // 知识库 Knowledge base: documents in, out, and a question tried against them.
    private static void MapKnowledge(RouteGroupBuilder api)
    {
        api.MapGet("/kb", (KnowledgeIndex index) => TypedResults.Ok(index.List()));
        api.MapGet("/kb/search", (string? q, KnowledgeIndex index) => string.IsNullOrWhiteSpace(q)
            ? Results.Problem(detail: "Type a question to try: ?q=…", statusCode: StatusCodes.Status400BadRequest)
            : Results.Ok(index.Search(q, 5)));
        api.MapPost("/kb", UploadAsync).RequireRole(AdminRole.Operator);
        api.MapDelete("/kb", (string? source, HttpContext http, KnowledgeIndex index, ILoggerFactory loggers) =>
        {
            using var writer = index.OpenWriter();
            if (string.IsNullOrEmpty(source) || !writer.Remove(source))
            {
                return Results.Problem(detail: $"No document '{source}' is in the knowledge base.", statusCode: StatusCodes.Status404NotFound);
            }

            writer.Commit();
            Log.DocumentChanged(loggers.CreateLogger(typeof(AdminEndpoints)), KeyName(http), source, "removed");
            return Results.Ok(new { source, removed = true });
        }).RequireRole(AdminRole.Operator);
    }

    private static async Task<IResult> UploadAsync(string? name, HttpRequest request, KnowledgeIndex index, IOptions<AdminOptions> options, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        var logger = loggers.CreateLogger(typeof(AdminEndpoints));
        var limit = options.Value.MaxUploadBytes;
        name = Path.GetFileName(name?.Trim() ?? "");
        if (name.Length == 0 || !DocumentReader.IsSupported(name))
        {
            Log.UploadRefused(logger, name, "not a supported document type");
            return Results.Problem(
                detail: $"'{name}' is not a document the knowledge base reads. Upload one of: {string.Join(", ", DocumentReader.Extensions.Order(StringComparer.Ordinal))}.",
                statusCode: StatusCodes.Status415UnsupportedMediaType);
        }

        if (request.ContentLength > limit)
        {
            Log.UploadRefused(logger, name, "larger than Admin:MaxUploadBytes");
            return TooLarge(name, limit);
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > limit)
            {
                Log.UploadRefused(logger, name, "larger than Admin:MaxUploadBytes");
                return TooLarge(name, limit);
            }

            buffer.Write(chunk, 0, read);
        }

        var content = buffer.ToArray();
        try
        {
            // Read once before the index is touched, so an unreadable file changes nothing and the page says why.
            _ = DocumentReader.Read(name, content);
        }
        catch (InvalidDataException ex)
        {
            Log.UploadRefused(logger, name, ex.Message);
            return Results.Problem(detail: $"{name} could not be read: {ex.Message}. The knowledge base is unchanged.", statusCode: StatusCodes.Status422UnprocessableEntity);
        }

        using var writer = index.OpenWriter();
        var (outcome, passages) = writer.Add(name, name, content);
        writer.Commit();
        Log.DocumentChanged(logger, KeyName(request.HttpContext), name, outcome.ToString().ToLowerInvariant());
        return Results.Ok(new { source = name, outcome = outcome.ToString().ToLowerInvariant(), passages });
    }

    private static IResult TooLarge(string name, long limit) => Results.Problem(
        detail: $"{name} is larger than the {limit / (1024 * 1024.0):0.#} MiB an upload may be (Admin:MaxUploadBytes). Split it, or add it on the server with `weseek kb add`. The knowledge base is unchanged.",
        statusCode: StatusCodes.Status413PayloadTooLarge);

    // 审核 Moderation: the lists as configured, a text tried against them, and hits since start by list.
    private static void MapModeration(RouteGroupBuilder api)
    {
        api.MapGet("/moderation", (IOptions<ModerationOptions> options, WordLists lists, MetricsHistory history) => TypedResults.Ok(new
        {
            words = lists.Current.WordCount,
            lists = options.Value.Lists.Select(l => new
            {
                name = l.Key,
                action = l.Value.Action.ToString().ToLowerInvariant(),
                file = l.Value.File,
                words = l.Value.Words,
                fileWords = lists.FileWords(l.Key),
            }),
            hits = history.ModerationHits(),
        }));
        api.MapPut("/moderation/lists/{name}", (string name, WordListRequest? request, WordLists lists) =>
        {
            if (request?.Words is null)
            {
                return Results.Problem(detail: "Send JSON: {\"words\": [\"…\", …]}.", statusCode: StatusCodes.Status400BadRequest);
            }

            return lists.Save(name, request.Words) is { } problem
                ? Results.Problem(detail: problem, statusCode: StatusCodes.Status400BadRequest)
                : Results.Ok(new { name, words = lists.FileWords(name).Count });
        }).RequireRole(AdminRole.Operator);
        api.MapPost("/moderation/test", (ModerationTestRequest? request, WordFilter filter) =>
        {
            if (string.IsNullOrEmpty(request?.Text))
            {
                return Results.Problem(detail: "Type a text to test.", statusCode: StatusCodes.Status400BadRequest);
            }

            var verdict = filter.Check(request.Text);
            return Results.Ok(new
            {
                action = verdict.Action?.ToString().ToLowerInvariant(),
                text = verdict.Text,
                hits = verdict.Hits.Select(h => new { list = h.List, action = h.Action.ToString().ToLowerInvariant(), word = h.Word, start = h.Start, end = h.End }),
            });
        });
    }

    // 设置 Settings: every WeSeek key in effect, where it came from, secrets masked.
    private static void MapSettings(RouteGroupBuilder api) =>
        api.MapGet("/settings", (IConfiguration configuration) => TypedResults.Ok(EffectiveSettings.Read(configuration)));

    // 渠道 Channels: each channel and account, what to paste into WeChat's console, and OneBot's connection.
    private static void MapChannels(RouteGroupBuilder api) =>
        api.MapGet("/channels", async (HttpContext http, ChannelRegistry channels, ConsoleQueries queries, IConfiguration configuration, HealthCheckService health, CancellationToken cancellationToken) =>
        {
            var origin = $"{http.Request.Scheme}://{http.Request.Host}";
            var mayReadSecrets = RoleOf(http) >= AdminRole.Operator;
            var activity = await queries.ActivityAsync(cancellationToken);
            var report = await health.CheckHealthAsync(c => c.Tags.Contains(WeSeek.Channels.ChannelHealth.Tag), cancellationToken);
            var accounts = new List<object>();
            foreach (var (section, path) in new[] { ("OfficialAccount:Accounts", "/wechat/mp/"), ("WeCom:Apps", "/wechat/wecom/") })
            {
                foreach (var account in configuration.GetSection(section).GetChildren())
                {
                    var token = account["Token"] ?? "";
                    accounts.Add(new
                    {
                        channel = section.StartsWith("WeCom", StringComparison.Ordinal) ? "wecom" : "mp",
                        account = account.Key,
                        callbackUrl = origin + path + Uri.EscapeDataString(account.Key),
                        token = mayReadSecrets ? token : Mask(token),
                        encodingAesKey = mayReadSecrets ? account["EncodingAesKey"] : Mask(account["EncodingAesKey"] ?? ""),
                    });
                }
            }

            return TypedResults.Ok(new
            {
                channels = channels.All.Select(c => c.Id.Value).Order(StringComparer.Ordinal).Select(id => new { id, state = "running" }),
                activity,
                accounts,
                ilink = configuration.GetValue<bool>("ILink:Enabled"),
                health = report.Entries.Select(e => new { name = e.Key, status = e.Value.Status.ToString(), description = e.Value.Description }),
            });
        });

    // 模型 Model: what is loaded, what else is on disk, a pull with progress, and a switch without a restart.
    private static void MapModel(RouteGroupBuilder api)
    {
        // Admin only: every chat's answers change with it. Turns already running finish on the old model; messages
        // waiting in the inbox run on the new one (LlamaEngineHost.SwitchModelAsync). A file that does not load
        // changes nothing, and the page shows llama.cpp's reason. Both outcomes are in the audit log with the key.
        api.MapPost("/model/switch", async (SwitchRequest? request, HttpContext http, IServiceProvider services, ConsoleModelPull pull, AuditLog audit, CancellationToken cancellationToken) =>
        {
            if (services.GetService<LlamaEngineHost>() is not { } host)
            {
                return Results.Problem(detail: "The model is a remote engine (Model:Provider=remote): switch it on that server.", statusCode: StatusCodes.Status409Conflict);
            }

            var name = request?.Name?.Trim();
            if (string.IsNullOrEmpty(name))
            {
                return Results.Problem(detail: "Name the model to switch to, as the list of local models gives it: {\"name\": \"…\"}.", statusCode: StatusCodes.Status400BadRequest);
            }

            string path;
            if (host.StartedWith is { } startedWith && name == Path.GetFileNameWithoutExtension(startedWith))
            {
                path = startedWith; // The file the engine started with, wherever it is (Model:Llama:ModelPath).
            }
            else
            {
                try
                {
                    path = new ModelStore(pull.Directory).ResolveStored(name);
                }
                catch (Exception ex) when (ex is InvalidOperationException or FileNotFoundException)
                {
                    return Results.Problem(detail: ex.Message + " The loaded model is unchanged.", statusCode: StatusCodes.Status404NotFound);
                }
            }

            if (host.LoadedEngine is { } loaded && Path.GetFullPath(loaded.ModelPath) == Path.GetFullPath(path))
            {
                return Results.Problem(detail: $"{name} is already the loaded model.", statusCode: StatusCodes.Status409Conflict);
            }

            ModelSwitch change;
            try
            {
                change = await host.SwitchModelAsync(path, cancellationToken);
            }
            catch (LlamaEngineException ex)
            {
                await audit.AppendAsync("admin.model.switch.refused", new JsonObject { ["to"] = path, ["key"] = KeyName(http), ["reason"] = ex.Message }, cancellationToken);
                return Results.Problem(title: "The model did not load", detail: ex.Message, statusCode: StatusCodes.Status422UnprocessableEntity);
            }

            await audit.AppendAsync("admin.model.switched", new JsonObject { ["from"] = change.From, ["to"] = change.To, ["key"] = KeyName(http) }, cancellationToken);
            return Results.Ok(new { from = Path.GetFileNameWithoutExtension(change.From), to = Path.GetFileNameWithoutExtension(change.To), retiring = host.Retiring });
        }).RequireRole(AdminRole.Admin);

        api.MapGet("/model/pull", (ConsoleModelPull pull) => TypedResults.Ok(pull.Status));
        api.MapPost("/model/pull", (PullRequest? request, ConsoleModelPull pull) =>
            string.IsNullOrWhiteSpace(request?.Name)
                ? Results.Problem(detail: "Name the model: deepseek-r1:<size>[:<quant>], e.g. deepseek-r1:1.5b.", statusCode: StatusCodes.Status400BadRequest)
                : pull.Start(request.Name) is { } problem
                    ? Results.Problem(detail: problem, statusCode: StatusCodes.Status409Conflict)
                    : Results.Accepted("/admin/api/model/pull", pull.Status))
            .RequireRole(AdminRole.Operator);
        api.MapGet("/model", (IServiceProvider services, IConfiguration configuration, ConsoleModelPull pull, MetricsHistory history) =>
        {
            var host = services.GetService<LlamaEngineHost>();
            var engine = host?.LoadedEngine;
            var options = services.GetService<IOptions<LlamaEngineOptions>>()?.Value;
            GgufInfo? info = null;
            if (engine is not null)
            {
                try
                {
                    info = GgufReader.Read(engine.ModelPath);
                }
                catch (Exception ex) when (ex is IOException or InvalidDataException)
                {
                    // The file changed under the engine; the page shows what is loaded without it.
                }
            }

            var startedInfo = host?.StartedWith is { } startFile ? ReadInfo(startFile) : null;
            var latest = history.Read(day: false)[^1];
            var directory = pull.Directory;
            return TypedResults.Ok(new
            {
                provider = configuration["Model:Provider"] ?? "llama",
                remote = configuration["Model:Remote:BaseUrl"],
                loaded = engine is null ? null : new
                {
                    file = engine.ModelPath,
                    id = engine.ModelId,
                    architecture = info?.Architecture,
                    quantization = info?.Quantization,
                    parameters = info?.ParameterCount,
                    contextCells = engine.Plan.Cells,
                    sequences = engine.Plan.Sequences,
                    gpuLayers = options?.GpuLayers,
                    active = engine.ActiveCount,
                    idle = engine.IsIdle,
                    kvUsedCells = latest.KvUsedCells,
                },
                // Old models still finishing the turns they had when the model was switched.
                retiring = host?.Retiring ?? 0,
                // The file the engine started with, when it is not in the models directory: it can be switched back to.
                startedWith = host?.StartedWith is { } started && Path.GetFullPath(Path.GetDirectoryName(started)!) != Path.GetFullPath(directory)
                    ? new { name = Path.GetFileNameWithoutExtension(started), file = started, loaded = engine is not null && Path.GetFullPath(started) == Path.GetFullPath(engine.ModelPath), size = File.Exists(started) ? new FileInfo(started).Length : (long?)null, architecture = startedInfo?.Architecture, quantization = startedInfo?.Quantization }
                    : null,
                directory,
                local = Directory.Exists(directory)
                    ? new ModelStore(directory).List().Select(m => new { m.Name, m.Size, architecture = m.Info?.Architecture, quantization = m.Info?.Quantization, loaded = engine is not null && Path.GetFullPath(m.Path) == Path.GetFullPath(engine.ModelPath) })
                    : [],
            });
        });
    }

    private static GgufInfo? ReadInfo(string path)
    {
        try
        {
            return GgufReader.Read(path);
        }
        catch (Exception ex) when (ex is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            return null; // The page shows the file without it.
        }
    }

    private static (string Channel, string Account, string ChatId)? ParseChat(string? chat)
    {
        var parts = chat?.Split('/', 3);
        return parts is [{ Length: > 0 } channel, { Length: > 0 } account, { Length: > 0 } id] ? (channel, account, id) : null;
    }

    private static IResult BadChat() =>
        Results.Problem(detail: "Name the chat: ?chat=<channel>/<account>/<chat id>, as the conversation list gives it.", statusCode: StatusCodes.Status400BadRequest);

    private static string Mask(string secret) => secret.Length == 0 ? "" : "••••" + (secret.Length > 8 ? secret[^2..] : "");

    private sealed record CreateKeyRequest(string? Name, string? Role);

    private sealed record ModerationTestRequest(string? Text);

    private sealed record WordListRequest(IReadOnlyList<string>? Words);

    private sealed record PullRequest(string? Name);

    private sealed record SwitchRequest(string? Name);
}
