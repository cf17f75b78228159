using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WeSeek.Logging;
using WeSeek.Plugins;

namespace WeSeek.Intents;

/// <summary>
/// Recognises a message's intent (<see cref="IntentOptions"/>): configured rules first (first match wins,
/// confidence 1), then the embedding classifier (each intent scored by its closest example), then, when the
/// classifier is unsure, the model choosing from the intents in JSON constrained by a schema (the embedded
/// engine turns it into a grammar, so its answer always parses). Null means plain chat. Thread-safe.
/// </summary>
internal sealed partial class IntentRecognizer : IDisposable
{
    /// <summary>The model's answer for "none of these".</summary>
    public const string Chat = "chat";

    private static readonly TimeSpan RegexTimeout = TimeSpan.FromMilliseconds(100);

    private readonly IntentOptions _options;
    private readonly IEmbeddingGenerator<string, Embedding<float>> _embeddings;
    private readonly IServiceProvider _services;
    private readonly ILogger<IntentRecognizer> _logger;
    private readonly (string Name, IntentDefinition Definition, Regex[] Patterns, (string Slot, Regex Pattern)[] Slots)[] _intents;
    private readonly SemaphoreSlim _examplesLock = new(1, 1);
    private (string Intent, float[] Vector)[]? _examples;

    public IntentRecognizer(IOptions<IntentOptions> options, IEmbeddingGenerator<string, Embedding<float>> embeddings, IServiceProvider services, ILogger<IntentRecognizer> logger)
    {
        _options = options.Value;
        _embeddings = embeddings;
        _services = services;
        _logger = logger;
        _intents = [.. _options.Items.Select(i => (
            i.Key,
            i.Value,
            i.Value.Patterns.Select(p => new Regex(p, RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, RegexTimeout)).ToArray(),
            i.Value.Slots.Select(s => (s.Key, new Regex(s.Value, RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, RegexTimeout))).ToArray()))];
    }

    public void Dispose() => _examplesLock.Dispose();

    /// <summary>True when any intent is configured.</summary>
    public bool Enabled => _intents.Length > 0;

    /// <summary>The intent of <paramref name="text"/>, or null for plain chat.</summary>
    public async Task<TurnIntent?> RecognizeAsync(string text, CancellationToken cancellationToken)
    {
        if (!Enabled || string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        if (MatchRules(text) is { } byRule)
        {
            return byRule;
        }

        var scores = await ScoreAsync(text, cancellationToken);
        if (scores.Count == 0)
        {
            return null;
        }

        var best = scores[0];
        var second = scores.Count > 1 ? scores[1].Score : 0;
        if (best.Score >= _options.Threshold && best.Score - second >= _options.Margin)
        {
            return Intent(best.Intent, text, IntentSource.Classifier, best.Score, null);
        }

        if (best.Score < _options.Floor || !_options.AskModel)
        {
            return null;
        }

        return await AskModelAsync(text, cancellationToken);
    }

    /// <summary>The model's choice, in JSON constrained to the intents' names (and <c>chat</c>) and their slots.</summary>
    internal async Task<TurnIntent?> AskModelAsync(string text, CancellationToken cancellationToken)
    {
        if (_services.GetService(typeof(IChatClient)) is not IChatClient client)
        {
            return null;
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.ModelTimeout);
        string answer;
        try
        {
            var (messages, options) = ModelRequest(text);
            var response = await client.GetResponseAsync(messages, options, timeout.Token);
            answer = response.Text;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            Log.ModelTimedOut(_logger, _options.ModelTimeout);
            return null;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Log.ModelFailed(_logger, ex);
            return null;
        }

        if (Parse(answer) is not { } parsed || parsed.Name == Chat || !_options.Items.ContainsKey(parsed.Name))
        {
            if (Parse(answer) is null)
            {
                Log.Unparsed(_logger, answer.Length);
            }

            return null;
        }

        return Intent(parsed.Name, text, IntentSource.Model, 1, parsed.Slots);
    }

    /// <summary>What the model is asked: the intents in a system message, the text, JSON constrained by <see cref="Schema"/>.</summary>
    internal (List<ChatMessage> Messages, ChatOptions Options) ModelRequest(string text) => (
        [new ChatMessage(ChatRole.System, Instructions()), new ChatMessage(ChatRole.User, text)],
        // Room for the longest answer the schema allows (every slot a bounded string), so it is never cut.
        new ChatOptions { ResponseFormat = ChatResponseFormat.ForJsonSchema(Schema(), "intent"), Temperature = 0, MaxOutputTokens = 1024 });

    internal static (string Name, Dictionary<string, string> Slots)? Parse(string answer)
    {
        // A model without grammar support may wrap the JSON in prose or a code fence: take the outermost object.
        var start = answer.IndexOf('{', StringComparison.Ordinal);
        var end = answer.LastIndexOf('}');
        if (start < 0 || end <= start)
        {
            return null;
        }

        try
        {
            var json = JsonNode.Parse(answer[start..(end + 1)]);
            if (json?["intent"]?.GetValueKind() != JsonValueKind.String)
            {
                return null;
            }

            var slots = new Dictionary<string, string>(StringComparer.Ordinal);
            if (json["slots"] is JsonObject values)
            {
                foreach (var (key, value) in values)
                {
                    if (value?.GetValueKind() == JsonValueKind.String && value.GetValue<string>() is { Length: > 0 } slot)
                    {
                        slots[key] = slot;
                    }
                }
            }

            return (json["intent"]!.GetValue<string>(), slots);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private TurnIntent? MatchRules(string text)
    {
        foreach (var (name, definition, patterns, _) in _intents)
        {
            if (definition.Keywords.Any(k => k.Length > 0 && text.Contains(k, StringComparison.OrdinalIgnoreCase)))
            {
                return Intent(name, text, IntentSource.Rule, 1, null);
            }

            foreach (var pattern in patterns)
            {
                if (Matched(pattern, text) is { } match)
                {
                    var slots = pattern.GetGroupNames()
                        .Where(g => !int.TryParse(g, out _) && match.Groups[g].Success && match.Groups[g].Length > 0)
                        .ToDictionary(g => g, g => match.Groups[g].Value, StringComparer.Ordinal);
                    return Intent(name, text, IntentSource.Rule, 1, slots);
                }
            }
        }

        return null;
    }

    private TurnIntent Intent(string name, string text, IntentSource source, double confidence, Dictionary<string, string>? slots)
    {
        slots ??= new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (slot, pattern) in _intents.First(i => i.Name == name).Slots)
        {
            if (!slots.ContainsKey(slot) && Matched(pattern, text) is { } match)
            {
                slots[slot] = match.Groups.Count > 1 && match.Groups[1].Success ? match.Groups[1].Value : match.Value;
            }
        }

        Log.Recognised(_logger, name, source, confidence);
        return new TurnIntent(name, slots, source, confidence);
    }

    private static Match? Matched(Regex pattern, string text)
    {
        try
        {
            var match = pattern.Match(text);
            return match.Success ? match : null;
        }
        catch (RegexMatchTimeoutException)
        {
            return null;
        }
    }

    /// <summary>Each intent with examples, scored by its closest example, best first.</summary>
    private async Task<List<(string Intent, float Score)>> ScoreAsync(string text, CancellationToken cancellationToken)
    {
        var examples = await ExamplesAsync(cancellationToken);
        if (examples.Length == 0)
        {
            return [];
        }

        var vector = (await _embeddings.GenerateAsync([text], cancellationToken: cancellationToken))[0].Vector.ToArray();
        return [.. examples
            .GroupBy(e => e.Intent)
            .Select(g => (g.Key, g.Max(e => CharacterNGramEmbeddings.Cosine(vector, e.Vector))))
            .OrderByDescending(s => s.Item2)];
    }

    private async Task<(string Intent, float[] Vector)[]> ExamplesAsync(CancellationToken cancellationToken)
    {
        if (_examples is { } ready)
        {
            return ready;
        }

        await _examplesLock.WaitAsync(cancellationToken);
        try
        {
            if (_examples is null)
            {
                var labelled = _options.Items.SelectMany(i => i.Value.Examples.Select(e => (Intent: i.Key, Text: e))).ToList();
                var vectors = labelled.Count == 0 ? [] : await _embeddings.GenerateAsync(labelled.Select(l => l.Text), cancellationToken: cancellationToken);
                _examples = [.. labelled.Select((l, i) => (l.Intent, vectors[i].Vector.ToArray()))];
            }

            return _examples;
        }
        finally
        {
            _examplesLock.Release();
        }
    }

    private string Instructions()
    {
        var text = new StringBuilder("判断用户消息的意图，只输出 JSON：{\"intent\": 意图名, \"slots\": {槽位: 值}}。可选意图：\n");
        foreach (var (name, definition, _, _) in _intents)
        {
            text.Append("- ").Append(name).Append('：').Append(definition.Description);
            if (definition.Examples.Count > 0)
            {
                text.Append("（例：").AppendJoin("；", definition.Examples.Take(3)).Append('）');
            }

            text.Append('\n');
        }

        return text.Append("- ").Append(Chat).Append("：以上都不是，普通聊天\n").ToString();
    }

    internal JsonElement Schema()
    {
        var slots = new JsonObject();
        foreach (var slot in _options.Items.Values.SelectMany(i => i.Slots.Keys).Distinct(StringComparer.Ordinal))
        {
            slots[slot] = new JsonObject { ["type"] = "string" };
        }

        var names = new JsonArray([.. _options.Items.Keys.Append(Chat).Select(n => (JsonNode?)JsonValue.Create(n))]);
        var schema = new JsonObject
        {
            ["type"] = "object",
            ["properties"] = new JsonObject
            {
                ["intent"] = new JsonObject { ["enum"] = names },
                ["slots"] = new JsonObject { ["type"] = "object", ["properties"] = slots },
            },
            ["required"] = new JsonArray("intent", "slots"),
        };
        return JsonSerializer.SerializeToElement(schema);
    }

    private static partial class Log
    {
        [LoggerMessage(WeSeekEventId.IntentRecognised, LogLevel.Debug, "Intent {Intent} recognised by {Source} ({Confidence:0.00})")]
        public static partial void Recognised(ILogger logger, string intent, IntentSource source, double confidence);

        [LoggerMessage(WeSeekEventId.IntentModelFailed, LogLevel.Warning, "Asking the model for the intent failed; the message goes on as plain chat")]
        public static partial void ModelFailed(ILogger logger, Exception exception);

        [LoggerMessage(WeSeekEventId.IntentModelTimedOut, LogLevel.Warning, "The model did not choose an intent within {Timeout}; the message goes on as plain chat")]
        public static partial void ModelTimedOut(ILogger logger, TimeSpan timeout);

        [LoggerMessage(WeSeekEventId.IntentUnparsed, LogLevel.Warning, "The model's intent answer ({Length} characters) was not the JSON asked for; plain chat")]
        public static partial void Unparsed(ILogger logger, int length);
    }
}
