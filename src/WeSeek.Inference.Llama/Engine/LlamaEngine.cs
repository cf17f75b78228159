using System.Diagnostics;
using System.Threading.Channels;
using LLama;
using LLama.Batched;
using LLama.Common;
using LLama.Exceptions;
using LLama.Native;
using LLama.Sampling;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using WeSeek.Logging;

namespace WeSeek.Inference.Llama.Engine;

/// <summary>
/// One loaded GGUF model and the scheduler that decodes every active request in the same llama.cpp batch
/// (continuous batching over LLamaSharp's <see cref="BatchedExecutor"/>). Requests beyond
/// <see cref="LlamaEngineOptions.MaxSequences"/> wait in a bounded queue; beyond that they are refused as
/// busy. Each step decodes one token of every generating request, and long prompts are prefilled in chunks
/// within <see cref="LlamaEngineOptions.BatchSize"/>, so a long prompt never stalls the others. Every
/// request is sampled right after the decode that produced its logits. Thread-safe: the scheduler owns the
/// executor; callers only enqueue.
/// </summary>
internal sealed partial class LlamaEngine : IAsyncDisposable
{
    private readonly LLamaWeights _weights;
    private readonly BatchedExecutor _executor;
    private readonly LlamaEngineOptions _options;
    private readonly ILogger _logger;
    private readonly Channel<GenerationRequest> _queue;
    private readonly List<GenerationRequest> _active = [];
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _scheduler;
    private readonly Dictionary<string, KeptConversation> _kept = new(StringComparer.Ordinal);
    private readonly ParkedConversations _parked;
    private long _clock;
    private List<GenerationRequest> _deferred = [];
    private List<GenerationRequest> _deferredPass = [];
    private int _deferredCursor;
    private Exception? _failure;
    private int _outstanding;

    private LlamaEngine(LLamaWeights weights, BatchedExecutor executor, string modelPath, LlamaEngineOptions options, string? parkingDirectory, ILogger logger)
    {
        _parked = new ParkedConversations(options, parkingDirectory, logger);
        _weights = weights;
        _executor = executor;
        _options = options;
        _logger = logger;
        ModelPath = modelPath;
        Prompts = new R1PromptBuilder(weights);
        // Unbounded channel, bounded by _outstanding: generating plus waiting never exceeds
        // MaxSequences + MaxQueue, however fast requests arrive.
        _queue = Channel.CreateUnbounded<GenerationRequest>(new UnboundedChannelOptions { SingleReader = true });
        _scheduler = Task.Factory.StartNew(RunAsync, _stopping.Token, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();
    }

    public string ModelPath { get; }

    public string ModelId => Path.GetFileNameWithoutExtension(ModelPath);

    public R1PromptBuilder Prompts { get; }

    /// <summary><see cref="LlamaEngineOptions.PrefillAnswers"/>.</summary>
    public bool PrefillAnswers => _options.PrefillAnswers;

    public LLamaContext Context => _executor.Context;

    /// <summary>True when nothing is generating, prefilling ahead or waiting.</summary>
    public bool IsIdle => Volatile.Read(ref _outstanding) == 0;

    /// <summary>Requests generating now.</summary>
    public int ActiveCount
    {
        get
        {
            lock (_active)
            {
                return _active.Count;
            }
        }
    }

    /// <summary>Loads <paramref name="modelPath"/>; failures say which option to change.</summary>
    public static async Task<LlamaEngine> LoadAsync(string modelPath, LlamaEngineOptions options, string? parkingDirectory, ILogger logger, ILogger nativeLogger, CancellationToken cancellationToken)
    {
        NativeSetup.EnsureConfigured(options, nativeLogger);
        var parameters = new ModelParams(modelPath)
        {
            ContextSize = (uint)options.ContextSize,
            BatchSize = (uint)options.BatchSize,
            UBatchSize = (uint)options.BatchSize,
            // Sequence ids for generating conversations and for idle ones whose cache is kept.
            SeqMax = (uint)(options.MaxSequences + options.MaxKeptConversations),
            // One KV pool shared by all sequences; without it each sequence gets ContextSize / SeqMax.
            KVUnified = true,
            GpuLayerCount = GpuLayers(modelPath, options),
        };
        if (options.Threads > 0)
        {
            parameters.Threads = options.Threads;
            parameters.BatchThreads = options.Threads;
        }

        if (options.KvCacheType == "q8_0")
        {
            parameters.TypeK = GGMLType.GGML_TYPE_Q8_0;
            parameters.TypeV = GGMLType.GGML_TYPE_Q8_0;
        }

        LLamaWeights weights;
        try
        {
            weights = await LLamaWeights.LoadFromFileAsync(parameters, cancellationToken);
        }
        catch (Exception ex) when (ex is LoadWeightsFailedException or RuntimeError or InvalidOperationException)
        {
            throw new LlamaEngineException(
                $"llama.cpp could not load {modelPath} ({ex.Message}). Check that it is a GGUF file (`weseek model inspect {modelPath}`); " +
                "if memory is short, use a smaller quantisation (`weseek model quantize … --to q4_k_m`) or fewer Model:Llama:GpuLayers.", ex);
        }

        if (options.GpuLayers == "0" && KvCacheBytes(weights, options) is var kvBytes && kvBytes > GC.GetGCMemoryInfo().TotalAvailableMemoryBytes * 0.9)
        {
            // Checked before llama.cpp allocates: an allocation near the machine's memory would thrash or be
            // killed rather than fail cleanly.
            weights.Dispose();
            throw new LlamaEngineException(
                $"A context of {options.ContextSize} tokens needs about {kvBytes / (1L << 20):N0} MiB of KV cache for {Path.GetFileName(modelPath)}, " +
                $"more than this machine's {GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1L << 20):N0} MiB. Lower Model:Llama:ContextSize " +
                "(WESEEK__Model__Llama__ContextSize), or set Model:Llama:KvCacheType=q8_0 to halve it.");
        }

        try
        {
            var executor = new BatchedExecutor(weights, parameters);
            return new LlamaEngine(weights, executor, modelPath, options, parkingDirectory, logger);
        }
        catch (Exception ex) when (ex is RuntimeError or InvalidOperationException)
        {
            weights.Dispose();
            throw new LlamaEngineException(
                $"llama.cpp could not create a context of {options.ContextSize} tokens for {Path.GetFileName(modelPath)} ({ex.Message}). " +
                "Lower Model:Llama:ContextSize (WESEEK__Model__Llama__ContextSize), set Model:Llama:KvCacheType=q8_0 to halve the KV cache, " +
                "or lower Model:Llama:BatchSize.", ex);
        }
    }

    /// <summary>Queues a generation; the request's output channel carries its tokens.</summary>
    /// <exception cref="LlamaEngineException">The prompt cannot fit, or the queue is full (busy).</exception>
    public GenerationRequest Submit(LLamaToken[] prompt, ChatOptions? options, CancellationToken cancellationToken)
    {
        if (prompt.Length + 1 > _options.ContextSize)
        {
            throw new LlamaEngineException(
                $"The prompt is {prompt.Length} tokens, more than Model:Llama:ContextSize ({_options.ContextSize}) holds. " +
                "Lower Context:MaxTokens or raise Model:Llama:ContextSize.");
        }

        if (Volatile.Read(ref _failure) is { } failure)
        {
            throw new LlamaEngineException($"The embedded engine stopped after an error ({failure.Message}); restart WeSeek. The log has the details (event {WeSeekEventId.LlamaSchedulerFailed}).", failure);
        }

        var sampler = new DefaultSamplingPipeline
        {
            Temperature = options?.Temperature ?? 0.6f,
            TopP = options?.TopP ?? 0.95f,
            TopK = options?.TopK ?? 40,
            Seed = options?.Seed is long seed ? unchecked((uint)seed) : (uint)Random.Shared.Next(),
            Grammar = options?.ResponseFormat is ChatResponseFormatJson json ? new Grammar(JsonGrammar(json), "root") : null,
        };
        var maxTokens = Math.Max(1, Math.Min(options?.MaxOutputTokens ?? 8192, _options.ContextSize - prompt.Length));
        if (Interlocked.Increment(ref _outstanding) > _options.MaxSequences + _options.MaxQueue)
        {
            Interlocked.Decrement(ref _outstanding);
            sampler.Dispose();
            throw new LlamaEngineException($"The engine is busy: {_options.MaxSequences} conversations are generating and {_options.MaxQueue} waiting (Model:Llama:MaxSequences, Model:Llama:MaxQueue).") { IsBusy = true };
        }

        var request = new GenerationRequest(prompt, options?.ConversationId, sampler, maxTokens, options?.StopSequences?.Where(s => s.Length > 0).ToList() ?? [], cancellationToken)
        {
            SpanSampler = sampler.Grammar is null && _options.Sampler == "managed" ? new SpanSampler(sampler.Temperature, sampler.TopK, sampler.TopP, sampler.Seed) : null,
        };
        if (!_queue.Writer.TryWrite(request))
        {
            // The scheduler stopped between the check above and now (it closes the queue before draining it).
            Interlocked.Decrement(ref _outstanding);
            request.Dispose();
            throw new LlamaEngineException("The embedded engine stopped after an error; restart WeSeek. The log has the details " +
                $"(event {WeSeekEventId.LlamaSchedulerFailed}).", Volatile.Read(ref _failure) ?? new ObjectDisposedException(nameof(LlamaEngine)));
        }

        return request;
    }

    /// <summary>
    /// Queues a prefill of <paramref name="history"/> into <paramref name="conversationKey"/>'s KV cache, to be
    /// kept for its next message (<see cref="LlamaEngineOptions.PrefillAnswers"/>). Skipped, returning false,
    /// when it would not find a free sequence at once: it must never delay a message.
    /// </summary>
    public bool TryPrefillAhead(LLamaToken[] history, string conversationKey)
    {
        if (history.Length + 1 > _options.ContextSize || Volatile.Read(ref _failure) is not null)
        {
            return false;
        }

        if (Interlocked.Increment(ref _outstanding) > _options.MaxSequences)
        {
            Interlocked.Decrement(ref _outstanding);
            return false;
        }

        var request = new GenerationRequest(history, conversationKey, new DefaultSamplingPipeline(), 0, [], CancellationToken.None) { PrefillOnly = true };
        if (!_queue.Writer.TryWrite(request))
        {
            Interlocked.Decrement(ref _outstanding);
            request.Dispose();
            return false;
        }

        return true;
    }

    /// <summary>
    /// The grammar for a JSON response. With R1's template the prompt has opened the think block, so the
    /// grammar first closes it (structured output skips reasoning, as R1 does with an empty think block);
    /// the reasoning split then finds the answer after <c>&lt;/think&gt;</c> as usual.
    /// </summary>
    private string JsonGrammar(ChatResponseFormatJson json)
    {
        var grammar = json.Schema is { } schema ? JsonSchemaGrammar.FromSchema(schema) : JsonSchemaGrammar.AnyObject;
        if (!Prompts.IsR1)
        {
            return grammar;
        }

        var body = grammar.IndexOf("root ::=", StringComparison.Ordinal);
        return "root ::= \"</think>\" \"\\n\\n\" json-root\n" + grammar.Remove(body, "root ::=".Length).Insert(body, "json-root ::=");
    }

    private async Task RunAsync()
    {
        var stopping = _stopping.Token;
        try
        {
            while (!stopping.IsCancellationRequested)
            {
                Admit();
                if (ActiveCount == 0)
                {
                    await _queue.Reader.WaitToReadAsync(stopping);
                    if (_options.AdmissionWindowMs > 0)
                    {
                        // Woken from idle by one request: messages that arrive together (a group's burst, a
                        // load test) join the first step instead of each costing a prefill step of its own.
                        await Task.Delay(_options.AdmissionWindowMs, stopping);
                    }

                    continue;
                }

                var started = Stopwatch.GetTimestamp();
                Schedule();
                var scheduled = Stopwatch.GetTimestamp();
                Phase("schedule", started, scheduled);
                if (_executor.BatchedTokenCount > 0)
                {
                    LlamaEngineMetrics.BatchConversations.Record(ActiveCount);
                    var result = await _executor.Infer(stopping);
                    if (result != DecodeResult.Ok)
                    {
                        HandleDecodeFailure(result);
                        continue;
                    }
                }

                var decoded = Stopwatch.GetTimestamp();
                Phase("decode", scheduled, decoded);
                SampleAll();
                var sampled = Stopwatch.GetTimestamp();
                Phase("sample", decoded, sampled);
                Retire();
                Phase("retire", sampled, Stopwatch.GetTimestamp());
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            // Nothing may wait on a scheduler that is gone: generating and queued requests fail, and new ones are
            // refused by Submit with the cause.
            Log.SchedulerFailed(_logger, ex);
            Volatile.Write(ref _failure, ex);
            _queue.Writer.TryComplete(); // Closed before the drain below, so no request can slip in after it.
            lock (_active)
            {
                foreach (var request in _active)
                {
                    request.Fail(new LlamaEngineException("The embedded engine stopped: " + ex.Message, ex));
                }

                foreach (var deferred in _deferred)
                {
                    deferred.Fail(new LlamaEngineException("The embedded engine stopped: " + ex.Message, ex));
                    Release(deferred);
                }

                _deferred.Clear();
            }

            while (_queue.Reader.TryRead(out var queued))
            {
                queued.Fail(new LlamaEngineException("The embedded engine stopped: " + ex.Message, ex));
                Release(queued);
            }
        }
    }

    private static void Phase(string phase, long from, long to)
    {
        if (LlamaEngineMetrics.StepPhase.Enabled)
        {
            LlamaEngineMetrics.StepPhase.Record(Stopwatch.GetElapsedTime(from, to).TotalSeconds, new KeyValuePair<string, object?>("phase", phase));
        }
    }

    /// <summary>Moves queued requests into free sequences, oldest first.</summary>
    private void Admit()
    {
        lock (_active)
        {
            (_deferredPass, _deferred) = (_deferred, _deferredPass);
            _deferred.Clear();
            _deferredCursor = 0;
            while (_active.Count < _options.MaxSequences && NextQueued() is { } request)
            {
                if (request.ConversationKey is { } busyKey && _active.Exists(a => a.PrefillOnly && a.ConversationKey == busyKey))
                {
                    // Its answer is being decoded into its cache right now: wait for that cache rather than start
                    // a fresh one. Others behind it go on.
                    _deferred.Add(request);
                    continue;
                }

                if (request.Cancelled)
                {
                    request.Fail(new OperationCanceledException(request.CancellationToken));
                    Release(request);
                    continue;
                }

                try
                {
                    AttachConversation(request);
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    // One conversation's cache could not be attached: that request fails, the others go on.
                    Log.AttachFailed(_logger, ex);
                    request.Fail(new LlamaEngineException("The embedded engine could not prepare this conversation's cache: " + ex.Message, ex));
                    Release(request);
                    continue;
                }

                if (request.PrefillOnly)
                {
                    LlamaEngineMetrics.PromptTokens.Add(request.Prompt.Length - request.Cached, new KeyValuePair<string, object?>("source", "prefilled_ahead"));
                }
                else
                {
                    LlamaEngineMetrics.PromptTokens.Add(request.Cached, new KeyValuePair<string, object?>("source", "cached"));
                    LlamaEngineMetrics.PromptTokens.Add(request.Prompt.Length - request.Cached, new KeyValuePair<string, object?>("source", "prefilled"));
                }

                request.Decoder = new StreamingTokenDecoder(_executor.Context);
                _active.Add(request);
            }

            // Not reached in this pass (all sequences taken): they stay first in line.
            for (; _deferredCursor < _deferredPass.Count; _deferredCursor++)
            {
                _deferred.Add(_deferredPass[_deferredCursor]);
            }

            _deferredPass.Clear();
        }
    }

    /// <summary>Deferred requests first (oldest first), then the queue. A deferred request goes back to the
    /// deferred list within the same pass, so each is looked at once per pass.</summary>
    private GenerationRequest? NextQueued()
    {
        if (_deferredCursor < _deferredPass.Count)
        {
            return _deferredPass[_deferredCursor++];
        }

        return _queue.Reader.TryRead(out var request) ? request : null;
    }

    /// <summary>
    /// Gives a request its sequence: its conversation's kept cache when there is one, cut back to the longest
    /// prefix it shares with the new prompt (the R1 template drops earlier reasoning, so the cache diverges
    /// where the last answer's reasoning began), or a fresh sequence. Only the request's own conversation key
    /// can match: another conversation's cache is never used, even for an identical prefix.
    /// </summary>
    private void AttachConversation(GenerationRequest request)
    {
        if (request.ConversationKey is { } parkedKey && !_kept.ContainsKey(parkedKey))
        {
            // A restored cache takes a sequence: make room first, as for a new one.
            MakeRoomForASequence();
            if (_parked.Restore(parkedKey, _executor) is { } restored)
            {
                _kept[parkedKey] = new KeptConversation(restored.Conversation, restored.Tokens, ++_clock);
            }
        }

        if (request.ConversationKey is { } key && _kept.Remove(key, out var kept))
        {
            var common = 0;
            var limit = Math.Min(kept.Tokens.Count, request.Prompt.Length - 1); // Leave one token to decode: it gives the logits.
            while (common < limit && kept.Tokens[common] == request.Prompt[common])
            {
                common++;
            }

            if (common > 0)
            {
                kept.Conversation.Rewind(kept.Tokens.Count - common);
                request.Conversation = kept.Conversation;
                request.Fed.AddRange(kept.Tokens.Take(common));
                request.Prefilled = common;
                request.Cached = common;
                return;
            }

            kept.Conversation.Dispose();
        }

        MakeRoomForASequence();
        request.Conversation = _executor.Create();
    }

    /// <summary>Parks idle conversations, least recently used first, until one more sequence fits.</summary>
    private void MakeRoomForASequence()
    {
        while (_kept.Count > 0 && _active.Count + _kept.Count >= _options.MaxSequences + _options.MaxKeptConversations)
        {
            DropLeastRecentlyUsed();
        }
    }

    private bool DropLeastRecentlyUsed()
    {
        if (_kept.Count == 0)
        {
            return false;
        }

        var oldest = _kept.MinBy(k => k.Value.LastUsed);
        _kept.Remove(oldest.Key);
        Park(oldest.Key, oldest.Value);
        return true;
    }

    /// <summary>Frees a dropped conversation's sequence, its KV state parked in memory or on disk first.</summary>
    private void Park(string key, KeptConversation kept) => _parked.Park(key, kept.Conversation, kept.Tokens, kept.LastUsed, _executor.Context.NativeHandle);

    /// <summary>Caches parked and restored since start, and where the parked ones are now.</summary>
    public ParkingSnapshot Parking => _parked.Snapshot;

    /// <summary>Queues this step's tokens: generating requests were prompted with their last token when it was
    /// sampled; prefill fills the rest of the batch, in arrival order.</summary>
    private void Schedule()
    {
        var budget = _options.BatchSize - _executor.BatchedTokenCount;
        foreach (var request in _active)
        {
            if (budget <= 0)
            {
                break;
            }

            if (request.InPrefill && !request.Cancelled && !request.Conversation!.RequiresInference)
            {
                var take = Math.Min(budget, request.Prompt.Length - request.Prefilled);
                request.Conversation.Prompt(request.Prompt.AsSpan(request.Prefilled, take));
                request.Fed.AddRange(request.Prompt.AsSpan(request.Prefilled, take));
                request.Prefilled += take;
                budget -= take;
            }
        }
    }

    /// <summary>
    /// Samples every request whose logits the last decode produced, before the next decode discards them. The
    /// sampling itself (the sampler chain over the vocabulary's logits, about 0.5 ms a token) runs in parallel
    /// across cores when several conversations are ready: on one thread it halved GPU throughput at 16
    /// conversations (inference-gpu.md). Each request has its own sampler and logits row, and nothing is
    /// decoding meanwhile; feeding the chosen tokens back into the batch stays on this thread, in order.
    /// </summary>
    private void SampleAll()
    {
        var vocab = _weights.NativeHandle.Vocab;
        foreach (var request in _active)
        {
            if (request.PrefillOnly && !request.Finished && !request.InPrefill && !request.Conversation!.RequiresInference)
            {
                request.Finish(ChatFinishReason.Stop); // Its cache is complete; Retire keeps it for the next message.
            }
        }

        var ready = _active.Where(r => !r.PrefillOnly && !r.Cancelled && !r.InPrefill && r.Conversation!.RequiresSampling).ToArray();
        if (ready.Length == 0)
        {
            return;
        }

        var tokens = new LLamaToken[ready.Length];
        if (ready.Length >= _options.ParallelSamplingFrom && Environment.ProcessorCount > 1)
        {
            Parallel.For(0, ready.Length, i => tokens[i] = SampleOne(ready[i]));
        }
        else
        {
            for (var i = 0; i < ready.Length; i++)
            {
                tokens[i] = SampleOne(ready[i]);
            }
        }

        for (var i = 0; i < ready.Length; i++)
        {
            var request = ready[i];
            var token = tokens[i];
            request.Generated++;
            LlamaEngineMetrics.GeneratedTokens.Add(1);
            if (token.IsEndOfGeneration(vocab))
            {
                request.Finish(ChatFinishReason.Stop);
                continue;
            }

            request.Decoder!.Add(token);
            if (request.Append(request.Decoder.Read()))
            {
                request.Finish(ChatFinishReason.Stop);
                continue;
            }

            if (request.Generated >= request.MaxTokens)
            {
                request.Finish(ChatFinishReason.Length);
                continue;
            }

            request.Conversation!.Prompt(token);
            request.Fed.Add(token);
        }
    }

    private static LLamaToken SampleOne(GenerationRequest request) =>
        request.SpanSampler is { } managed
            ? (LLamaToken)managed.Sample(request.Conversation!.Sample())
            : request.Conversation!.Sample(request.Sampler);

    /// <summary>Frees the sequences of finished and cancelled requests (once nothing is queued for them).</summary>
    private void Retire()
    {
        lock (_active)
        {
            for (var i = _active.Count - 1; i >= 0; i--)
            {
                var request = _active[i];
                var finished = request.Finished;
                if ((finished || request.Cancelled) && !request.Conversation!.RequiresInference)
                {
                    if (request.Cancelled && !finished)
                    {
                        request.Fail(new OperationCanceledException(request.CancellationToken));
                    }
                    else if (request.ConversationKey is { } key && request.Succeeded && _options.MaxKeptConversations > 0)
                    {
                        // Keep the cache for the conversation's next turn.
                        _kept[key] = new KeptConversation(request.Conversation!, [.. request.Fed], ++_clock);
                        request.Conversation = null;
                        while (_kept.Count > _options.MaxKeptConversations)
                        {
                            DropLeastRecentlyUsed();
                        }
                    }

                    Release(request);
                    _active.RemoveAt(i);
                }
            }
        }
    }

    private void HandleDecodeFailure(DecodeResult result)
    {
        // Kept caches of idle conversations go first: they are only an optimisation.
        if (result == DecodeResult.NoKvSlot && DropLeastRecentlyUsed())
        {
            return;
        }

        // The shared KV pool is full: fail the newest request (freeing its sequence) so the others go on.
        GenerationRequest victim;
        lock (_active)
        {
            victim = _active[^1];
            _active.RemoveAt(_active.Count - 1);
        }

        Log.DecodeFailed(_logger, result, _active.Count + 1);
        victim.Fail(new LlamaEngineException(
            $"The KV cache is full ({result}; Model:Llama:ContextSize={_options.ContextSize} tokens shared by {_active.Count + 1} conversations). " +
            "Raise Model:Llama:ContextSize (WESEEK__Model__Llama__ContextSize), lower Context:MaxTokens or Model:Llama:MaxSequences, or set Model:Llama:KvCacheType=q8_0."));
        victim.Conversation = null;
        Release(victim);
    }

    /// <summary>Frees a request's sequence and its place in the count.</summary>
    private void Release(GenerationRequest request)
    {
        request.Dispose();
        Interlocked.Decrement(ref _outstanding);
    }

    private static int GpuLayers(string modelPath, LlamaEngineOptions options)
    {
        if (options.GpuLayers != "auto")
        {
            return int.Parse(options.GpuLayers, System.Globalization.CultureInfo.InvariantCulture);
        }

        if (options.MaxGpuMemoryMiB == 0)
        {
            return 999; // All layers; llama.cpp clamps to the model's count.
        }

        // Layers are about equal in size: offload as many as the budget holds, the rest stay on the CPU.
        var blocks = BlockCount(modelPath);
        var perLayer = new FileInfo(modelPath).Length / Math.Max(1, blocks + 1);
        return (int)Math.Clamp(options.MaxGpuMemoryMiB * 1024L * 1024L / Math.Max(1, perLayer), 0, blocks);
    }

    /// <summary>KV cache size: per token, K and V for every layer, at the KV heads' width.</summary>
    private static long KvCacheBytes(LLamaWeights weights, LlamaEngineOptions options)
    {
        var metadata = weights.Metadata;
        var architecture = metadata.GetValueOrDefault("general.architecture") ?? "llama";
        long Read(string key, long fallback) => long.TryParse(metadata.GetValueOrDefault($"{architecture}.{key}"), out var value) ? value : fallback;
        var layers = Read("block_count", 32);
        var embedding = Read("embedding_length", weights.EmbeddingSize);
        var heads = Read("attention.head_count", 32);
        var kvHeads = Read("attention.head_count_kv", heads);
        var kvWidth = kvHeads * (embedding / Math.Max(1, heads));
        var bytesPerValue = options.KvCacheType == "q8_0" ? 34.0 / 32 : 2.0; // Q8_0 blocks: 32 values in 34 bytes.
        return (long)(options.ContextSize * layers * 2 * kvWidth * bytesPerValue);
    }

    private static int BlockCount(string modelPath)
    {
        using var vocabOnly = LLamaWeights.LoadFromFile(new ModelParams(modelPath) { VocabOnly = true, GpuLayerCount = 0 });
        var architecture = vocabOnly.Metadata.GetValueOrDefault("general.architecture") ?? "llama";
        return int.TryParse(vocabOnly.Metadata.GetValueOrDefault(architecture + ".block_count"), out var blocks) ? blocks : 32;
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        try
        {
            await _scheduler;
        }
        catch (OperationCanceledException)
        {
        }

        lock (_active)
        {
            foreach (var request in _active)
            {
                request.Fail(new OperationCanceledException("The engine is shutting down."));
                request.Dispose();
            }

            _active.Clear();
            foreach (var deferred in _deferred)
            {
                deferred.Fail(new OperationCanceledException("The engine is shutting down."));
                deferred.Dispose();
            }

            _deferred.Clear();
        }

        foreach (var kept in _kept.Values)
        {
            kept.Conversation.Dispose();
        }

        _kept.Clear();
        await _parked.DisposeAsync();
        while (_queue.Reader.TryRead(out var queued))
        {
            queued.Fail(new OperationCanceledException("The engine is shutting down."));
            queued.Dispose();
        }

        _executor.Dispose();
        _weights.Dispose();
        _stopping.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(WeSeekEventId.LlamaSchedulerFailed, LogLevel.Error, "The embedded engine's scheduler failed")]
        public static partial void SchedulerFailed(ILogger logger, Exception exception);

        [LoggerMessage(WeSeekEventId.LlamaAttachFailed, LogLevel.Warning, "Could not attach a conversation's KV cache; the request fails, the others go on")]
        public static partial void AttachFailed(ILogger logger, Exception exception);

        [LoggerMessage(WeSeekEventId.LlamaDecodeFailed, LogLevel.Warning, "llama.cpp decode returned {Result} with {Active} active conversations; failing the newest")]
        public static partial void DecodeFailed(ILogger logger, DecodeResult result, int active);
    }
}

/// <summary>An idle conversation's sequence and the tokens its KV cache holds.</summary>
internal sealed record KeptConversation(Conversation Conversation, List<LLamaToken> Tokens, long LastUsed);
