using System.Diagnostics;
using System.Globalization;
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
    /// <summary>Kept caches of requests that gave no conversation id (found again by their prefix).</summary>
    private const string AnonymousPrefix = "\u0001anonymous/";

    /// <summary>Parked caches of preempted requests, until they resume.</summary>
    private const string PreemptedPrefix = "\u0001preempted/";

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
    private readonly KvPlan _plan;
    private readonly LlamaEngineMetrics _metrics;
    private readonly int _cells;

    /// <summary>Cells one sequence may hold: all of them in a unified cache, its own share in a per-sequence one.</summary>
    private readonly int _sequenceCells;
    private readonly bool _perSequence;
    private readonly LLamaToken? _userTurnToken;
    private readonly BackendSamplers? _backend;
    private long _drawnFromDecode;
    private long _clock;
    private int _keptCells;
    private int _publishedUsed;
    private long _anonymous;
    private long _preemptions;
    private List<GenerationRequest> _deferred = [];
    private List<GenerationRequest> _deferredPass = [];
    private int _deferredCursor;
    private Exception? _failure;
    private int _outstanding;

    private LlamaEngine(LLamaWeights weights, BatchedExecutor executor, string modelPath, LlamaEngineOptions options, KvPlan plan, string? parkingDirectory, LlamaEngineMetrics metrics, ILogger logger)
    {
        _plan = plan;
        _metrics = metrics;
        _parked = new ParkedConversations(options, parkingDirectory, metrics, logger);
        _weights = weights;
        _executor = executor;
        // llama.cpp may round the context up; the cells this engine hands out are the ones it was asked for.
        _cells = (int)Math.Min(plan.Cells, executor.Context.ContextSize);
        _perSequence = plan.PerSequence;
        _sequenceCells = _perSequence ? _cells / (plan.Sequences + plan.Kept) : _cells;
        _options = options;
        _logger = logger;
        ModelPath = modelPath;
        Prompts = new R1PromptBuilder(weights);
        if (options.Sampler == "backend")
        {
            _backend = BackendSamplers.TryCreate(executor.Context.NativeHandle, out var problem);
            _backend?.IsGenerating = sequence => _active.Exists(a => a.DrawsOnBackend && a.Conversation is { } c && (int)c.ConversationId == sequence);
            if (problem is not null)
            {
                Log.BackendSamplingUnavailable(logger, problem);
            }
        }

        _userTurnToken = Prompts.IsR1 && executor.Context.Tokenize(R1PromptBuilder.UserMarker, addBos: false, special: true) is [var marker] ? marker : null;
        // Unbounded channel, bounded by _outstanding: generating plus waiting never exceeds
        // MaxSequences + MaxQueue, however fast requests arrive.
        _queue = Channel.CreateUnbounded<GenerationRequest>(new UnboundedChannelOptions { SingleReader = false }); // Not single: its Count tells the scheduler whether messages wait.
        _metrics.Track(this);
        _scheduler = Task.Factory.StartNew(RunAsync, _stopping.Token, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();
    }

    public string ModelPath { get; }

    /// <summary>Tokens drawn from the candidates the decode selected (<c>Model:Llama:Sampler=backend</c>) rather than
    /// from a logits row.</summary>
    internal long TokensDrawnFromDecode => Volatile.Read(ref _drawnFromDecode);

    public string ModelId => Path.GetFileNameWithoutExtension(ModelPath);

    public R1PromptBuilder Prompts { get; }

    /// <summary><see cref="LlamaEngineOptions.PrefillAnswers"/>.</summary>
    public bool PrefillAnswers => _options.PrefillAnswers;

    public LLamaContext Context => _executor.Context;

    /// <summary>How the KV cells are shared (<see cref="KvPlan"/>).</summary>
    public KvPlan Plan => _plan;

    /// <summary>The plan as the start-up log gives it, with the layout when it is per sequence.</summary>
    public string PlanDescription => _perSequence
        ? string.Create(CultureInfo.InvariantCulture, $"KV: {_cells:N0} cells laid out per sequence: {_plan.Sequences + _plan.Kept} sequences ({_plan.Sequences} generating, {_plan.Kept} kept) × {_sequenceCells:N0} cells, parked beyond")
        : _plan.ToString();

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
    public static async Task<LlamaEngine> LoadAsync(string modelPath, LlamaEngineOptions options, string? parkingDirectory, LlamaEngineMetrics metrics, ILogger logger, ILogger nativeLogger, CancellationToken cancellationToken)
    {
        NativeSetup.EnsureConfigured(options, nativeLogger);
        var gpuLayers = GpuLayers(modelPath, options);
        var parameters = new ModelParams(modelPath)
        {
            BatchSize = (uint)options.BatchSize,
            UBatchSize = (uint)options.BatchSize,
            GpuLayerCount = gpuLayers,
        };
        // Not LLamaSharp's default (half the logical processors): one thread per physical core, as llama-server runs.
        parameters.Threads = options.Threads > 0 ? options.Threads : CpuTopology.PhysicalCores();
        parameters.BatchThreads = parameters.Threads;

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

        var available = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        var plan = KvPlan.From(options, KvBytesPerToken(weights, options), new FileInfo(modelPath).Length, available, gpuLayers > 0);
        if (gpuLayers == 0 && plan.Cells * plan.BytesPerToken is var kvBytes && kvBytes > available * 0.9)
        {
            // Checked before llama.cpp allocates: an allocation near the machine's memory would thrash or be
            // killed rather than fail cleanly.
            weights.Dispose();
            throw new LlamaEngineException(
                $"A context of {plan.Cells} tokens needs about {kvBytes / (1L << 20):N0} MiB of KV cache for {Path.GetFileName(modelPath)}, " +
                $"more than this machine's {available / (1L << 20):N0} MiB. Lower Model:Llama:ContextSize " +
                "(WESEEK__Model__Llama__ContextSize), or set Model:Llama:KvCacheType=q8_0 to halve it.");
        }

        parameters.ContextSize = (uint)plan.Cells;
        // One KV pool shared by all sequences, or each sequence its own ContextSize / SeqMax (KvPlan.PerSequence).
        parameters.KVUnified = !plan.PerSequence;
        // Sequence ids for generating conversations and for idle ones whose cache is kept.
        parameters.SeqMax = (uint)(plan.Sequences + plan.Kept);
        try
        {
            var executor = new BatchedExecutor(weights, parameters);
            return new LlamaEngine(weights, executor, modelPath, options, plan, parkingDirectory, metrics, logger);
        }
        catch (Exception ex) when (ex is RuntimeError or InvalidOperationException)
        {
            weights.Dispose();
            throw new LlamaEngineException(
                $"llama.cpp could not create a context of {plan.Cells} tokens for {Path.GetFileName(modelPath)} ({ex.Message}). " +
                "Lower Model:Llama:ContextSize (WESEEK__Model__Llama__ContextSize) or Model:Llama:KvMemoryMiB, set Model:Llama:KvCacheType=q8_0 to halve the KV cache, " +
                "or lower Model:Llama:BatchSize.", ex);
        }
    }

    /// <summary>Queues a generation; the request's output channel carries its tokens.</summary>
    /// <exception cref="LlamaEngineException">The prompt cannot fit, or the queue is full (busy).</exception>
    public GenerationRequest Submit(LLamaToken[] prompt, ChatOptions? options, CancellationToken cancellationToken)
    {
        if (prompt.Length + 1 > _sequenceCells)
        {
            throw new LlamaEngineException(_perSequence
                ? $"The prompt is {prompt.Length} tokens, more than one sequence's share of Model:Llama:ContextSize ({_sequenceCells} with Model:Llama:KvLayout=per-sequence) holds. " +
                  "Lower Context:MaxTokens, raise Model:Llama:ContextSize or lower Model:Llama:MaxSequences."
                : $"The prompt is {prompt.Length} tokens, more than Model:Llama:ContextSize ({_plan.Cells}) holds. " +
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
        var maxTokens = Math.Max(1, Math.Min(options?.MaxOutputTokens ?? 8192, _sequenceCells - prompt.Length));
        if (Interlocked.Increment(ref _outstanding) > _plan.Sequences + _options.MaxQueue)
        {
            Interlocked.Decrement(ref _outstanding);
            sampler.Dispose();
            throw new LlamaEngineException($"The engine is busy: {_plan.Sequences} conversations are generating and {_options.MaxQueue} waiting (Model:Llama:MaxSequences, Model:Llama:MaxQueue).") { IsBusy = true };
        }

        var request = new GenerationRequest(prompt, options?.ConversationId, sampler, maxTokens, options?.StopSequences?.Where(s => s.Length > 0).ToList() ?? [], cancellationToken)
        {
            SpanSampler = sampler.Grammar is null && _options.Sampler is "managed" or "backend" ? new SpanSampler(sampler.Temperature, sampler.TopK, sampler.TopP, sampler.Seed) : null,
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
        if (history.Length + 1 > _sequenceCells || Volatile.Read(ref _failure) is not null)
        {
            return false;
        }

        if (Interlocked.Increment(ref _outstanding) > _plan.Sequences)
        {
            Interlocked.Decrement(ref _outstanding);
            return false;
        }

        var request = new GenerationRequest(history, conversationKey, new DefaultSamplingPipeline(), 0, [], CancellationToken.None)
        {
            PrefillOnly = true,
            NotBefore = Stopwatch.GetTimestamp() + (long)(_options.PrefillAheadDelayMs * (Stopwatch.Frequency / 1000.0)),
        };
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
                ApplyPendingAdapterSwap();
                var admitting = Stopwatch.GetTimestamp();
                Admit();
                Phase("admit", admitting, Stopwatch.GetTimestamp());
                if (ActiveCount == 0)
                {
                    if (NextPrefillAhead() is { } due)
                    {
                        // Only answers to prefill ahead are waiting, not yet due: wake for them or for a message.
                        var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), due);
                        await Task.WhenAny(_queue.Reader.WaitToReadAsync(stopping).AsTask(), Task.Delay(wait > TimeSpan.Zero ? wait : TimeSpan.Zero, stopping));
                        continue;
                    }

                    if (await Task.WhenAny(_queue.Reader.WaitToReadAsync(stopping).AsTask(), AdapterSwapRequested(stopping)) is var woken && !_queue.Reader.TryPeek(out _))
                    {
                        await woken; // An adapter change (applied at the top of the loop), or stopping.
                        continue;
                    }

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
                    _metrics.BatchConversations.Record(ActiveCount);
                    var result = await _executor.Infer(stopping);
                    if (result != DecodeResult.Ok)
                    {
                        HandleDecodeFailure(result);
                        continue;
                    }

                    if (ApplyPendingAdapterSwap())
                    {
                        continue; // The logits were the old adapters'; the requests prefill again under the new ones.
                    }
                }

                var decoded = Stopwatch.GetTimestamp();
                Phase("decode", scheduled, decoded);
                // On a GPU llama_decode returns once the graph is queued; waiting here keeps the device's compute
                // out of the sample phase's time (on the CPU backend the decode has already finished).
                _executor.Context.NativeHandle.Synchronize();
                var computed = Stopwatch.GetTimestamp();
                Phase("wait", decoded, computed);
                SampleAll();
                var sampled = Stopwatch.GetTimestamp();
                Phase("sample", computed, sampled);
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

    private void Phase(string phase, long from, long to)
    {
        if (_metrics.StepPhase.Enabled)
        {
            _metrics.StepPhase.Record(Stopwatch.GetElapsedTime(from, to).TotalSeconds, new KeyValuePair<string, object?>("phase", phase));
        }
    }

    /// <summary>
    /// Moves queued requests into free sequences, strictly oldest first: a request is admitted only when the KV
    /// cells its prompt needs are free, after idle conversations' caches have been parked to make room; when the
    /// oldest does not fit, everything behind it waits too (no small request overtakes a long one forever).
    /// Answers prefilled ahead are admitted only when no message is waiting.
    /// </summary>
    private void Admit()
    {
        lock (_active)
        {
            (_deferredPass, _deferred) = (_deferred, _deferredPass);
            _deferred.Clear();
            _deferredCursor = 0;
            var blocked = false;
            // An answer prefilled ahead progresses only in steps no message is in, so with a message waiting it would
            // hold its sequence without moving: it stops where it is (what it decoded is kept) to free the sequence.
            while (!blocked && (_active.Count < _plan.Sequences || (MessagesQueued() && StopAPrefillAhead())) && NextQueued() is { } request)
            {
                if (request.Cancelled)
                {
                    request.Fail(new OperationCanceledException(request.CancellationToken));
                    Forget(request);
                    Release(request);
                    continue;
                }

                if (request.PrefillOnly && Stopwatch.GetTimestamp() < request.NotBefore)
                {
                    _deferred.Add(request); // Not due yet: a message arriving meanwhile goes first.
                    continue;
                }

                if (request.ConversationKey is { } busyKey && _active.Find(a => a.PrefillOnly && a.ConversationKey == busyKey) is { } ahead
                    && (request.PrefillOnly || !StopPrefillAhead(ahead)))
                {
                    // Its answer is being decoded into its cache right now and cannot stop this step: wait for that
                    // cache rather than start a fresh one. Others behind it go on. (A message normally stops the
                    // answer where it is and continues from it: it would otherwise wait until no other message is
                    // generating, the only steps an answer ahead moves in.)
                    _deferred.Add(request);
                    continue;
                }

                if (request.PrefillOnly && (MessagesWaiting() || !_kept.ContainsKey(request.ConversationKey!)))
                {
                    // Best effort only, when no message is in the engine: a user's message never waits behind an
                    // answer prefilled ahead, and a cache already parked for others is not brought back to extend it.
                    // Dropped, the answer is prefilled with that conversation's next message instead.
                    request.Finish(ChatFinishReason.Stop);
                    Release(request);
                    continue;
                }

                var key = CacheKeyFor(request);
                if (!MakeRoomFor(request, key))
                {
                    // Not enough free cells even with every idle cache parked: it waits, first in line, for
                    // generating conversations to finish.
                    _deferred.Add(request);
                    blocked = true;
                    continue;
                }

                try
                {
                    AttachConversation(request, key);
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    // One conversation's cache could not be attached: that request fails, the others go on.
                    Log.AttachFailed(_logger, ex);
                    request.Fail(new LlamaEngineException("The embedded engine could not prepare this conversation's cache: " + ex.Message, ex));
                    Release(request);
                    continue;
                }

                if (request.Preemptions > 0)
                {
                    // Resumed: its prompt was counted when it was first admitted.
                }
                else if (request.PrefillOnly)
                {
                    _metrics.PromptTokens.Add(request.Prompt.Length - request.Cached, new KeyValuePair<string, object?>("source", "prefilled_ahead"));
                }
                else
                {
                    _metrics.PromptTokens.Add(request.Cached, new KeyValuePair<string, object?>("source", "cached"));
                    _metrics.PromptTokens.Add(request.Prompt.Length - request.Cached, new KeyValuePair<string, object?>("source", "prefilled"));
                }

                DrawOnBackend(request);
                request.Decoder ??= new StreamingTokenDecoder(_executor.Context);
                request.AdmittedAt = ++_clock;
                _active.Add(request);
            }

            // Not reached in this pass (all sequences taken, or the oldest is waiting for cells): they stay first
            // in line, in order.
            for (; _deferredCursor < _deferredPass.Count; _deferredCursor++)
            {
                _deferred.Add(_deferredPass[_deferredCursor]);
            }

            _deferredPass.Clear();
            PublishCells();
        }
    }

    /// <summary>
    /// Gives a generating request's sequence its chain in the decode graph (<c>Model:Llama:Sampler=backend</c>), or
    /// takes a chain left on the sequence away when this request needs the raw logits. An answer prefilled ahead
    /// leaves the sequence as it is: it reads nothing back.
    /// </summary>
    private void DrawOnBackend(GenerationRequest request)
    {
        if (_backend is null || request.PrefillOnly)
        {
            return;
        }

        // llama.cpp's graph asserts k ≤ the vocabulary (the managed scan clamps the same way).
        request.DrawsOnBackend = request.SpanSampler is { } sampler && _backend.Attach(request.Conversation!, Math.Min(sampler.TopK, _weights.NativeHandle.Vocab.Count));
        if (!request.DrawsOnBackend)
        {
            _backend.Detach(request.Conversation!);
        }
    }

    /// <summary>When the earliest answer waiting to be prefilled ahead is due; null when none waits.</summary>
    private long? NextPrefillAhead()
    {
        lock (_active)
        {
            long? due = null;
            foreach (var deferred in _deferred)
            {
                if (deferred.PrefillOnly && (due is null || deferred.NotBefore < due))
                {
                    due = deferred.NotBefore;
                }
            }

            return due;
        }
    }

    /// <summary>True when a user's message (not an answer prefilled ahead) is generating, or waits for a sequence or
    /// for cells: answers are then not prefilled ahead.</summary>
    private bool MessagesWaiting() => _active.Exists(a => !a.PrefillOnly) || MessagesQueued();

    /// <summary>True when a user's message waits for a sequence or for cells (queued requests may be answers to
    /// prefill ahead too: they are counted as messages, erring on the side of the message).</summary>
    private bool MessagesQueued()
    {
        for (var i = _deferredCursor; i < _deferredPass.Count; i++)
        {
            if (!_deferredPass[i].PrefillOnly)
            {
                return true;
            }
        }

        return _deferred.Exists(d => !d.PrefillOnly) || _queue.Reader.Count > 0;
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

    /// <summary>KV cells in use: every token of every sequence, generating or kept (a prefix shared by a fork is
    /// counted twice, which errs on the safe side).</summary>
    private int UsedCells()
    {
        var used = _keptCells;
        foreach (var request in _active)
        {
            used += request.Fed.Count;
        }

        return used;
    }

    /// <summary>Cells not held by any sequence. With a per-sequence layout every sequence owns its share (prompts and
    /// answers are bounded by it at submission), so cells never decide admission or growth: sequence ids do.</summary>
    private int FreeCells() => _perSequence ? int.MaxValue / 2 : _cells - UsedCells();

    /// <summary>
    /// Frees cells for <paramref name="request"/>'s prompt (what its own cache, <paramref name="key"/>, does not
    /// hold) and one step of growth for every generating conversation, by parking idle caches, least recently used
    /// first, never its own. False when even that is not enough: the request then waits.
    /// </summary>
    private bool MakeRoomFor(GenerationRequest request, string? key)
    {
        int needed;
        if (key is not null && _kept.TryGetValue(key, out var own))
        {
            // Its cache beyond the shared prefix is freed when it is cut back.
            needed = request.Input.Length - own.Tokens.Count;
        }
        else if (key is not null && _parked.TokensOf(key) is { } parked)
        {
            // A restore loads the whole parked cache before it is cut back to what the prompt shares.
            needed = Math.Max(parked.Count, request.Input.Length);
        }
        else
        {
            needed = request.Input.Length;
        }

        foreach (var active in _active)
        {
            needed += active.PrefillOnly ? 0 : 1;
        }

        needed++;
        while (FreeCells() < needed && DropLeastRecentlyUsed(except: key, "admission"))
        {
        }

        return FreeCells() >= needed;
    }

    /// <summary>Whose cache a request continues: the one it was preempted from, its conversation's, or for an
    /// anonymous request the anonymous cache sharing the longest prefix with it.</summary>
    private string? CacheKeyFor(GenerationRequest request) =>
        request.ResumeKey ?? request.ConversationKey ?? BestAnonymousMatch(request.Input);

    private static int CommonPrefix(List<LLamaToken> kept, LLamaToken[] input)
    {
        var common = 0;
        var limit = Math.Min(kept.Count, input.Length - 1); // Leave one token to decode: it gives the logits.
        while (common < limit && kept[common] == input[common])
        {
            common++;
        }

        return common;
    }

    /// <summary>
    /// Gives a request its sequence: its conversation's kept cache when there is one (parked ones are restored
    /// first), cut back to the longest prefix it shares with the new prompt (the R1 template drops earlier
    /// reasoning, so the cache diverges where the last answer's reasoning began), or a fresh sequence.
    /// A request with a conversation id only ever continues its own cache; one without (an anonymous API call)
    /// takes over the anonymous cache sharing the longest prefix with it, as llama-server's slots do.
    /// </summary>
    private void AttachConversation(GenerationRequest request, string? key)
    {
        if (key is not null && !_kept.ContainsKey(key) && _parked.TokensOf(key) is not null)
        {
            // A restored cache takes a sequence and cells: make room first, as for a new one.
            MakeRoomForASequence();
            if (_parked.Restore(key, _executor) is { } restored)
            {
                Keep(key, new KeptConversation(restored.Conversation, restored.Tokens, ++_clock));
            }
        }

        request.Resumed();
        if (key is not null && Unkeep(key) is { } kept)
        {
            var common = CommonPrefix(kept.Tokens, request.Input);
            if (common > 0)
            {
                request.KeptLastUsed = kept.LastUsed;
                kept.Conversation.Rewind(kept.Tokens.Count - common);
                request.Conversation = kept.Conversation;
                request.Fed.AddRange(kept.Tokens.Take(common));
                request.Prefilled = common;
                if (request.Preemptions == 0)
                {
                    request.Cached = common;
                }

                return;
            }

            kept.Conversation.Dispose();
        }

        if (request.Preemptions == 0 && _perSequence && TakeOverSystemPrompt(request.Input) is { } taken)
        {
            request.Conversation = taken.Conversation;
            request.Fed.AddRange(request.Input.AsSpan(0, taken.Length));
            request.Prefilled = taken.Length;
            request.Cached = taken.Length;
            return;
        }

        MakeRoomForASequence();
        // Not with a per-sequence layout: llama.cpp copies a sequence into another stream only whole (it asserts on
        // a partial copy), a copy of the other conversation's whole buffer. That layout takes a sequence over instead.
        if (request.Preemptions == 0 && !_perSequence && SharedSystemPrompt(request.Input) is { } shared)
        {
            request.Conversation = shared.Conversation;
            request.Fed.AddRange(request.Input.AsSpan(0, shared.Length));
            request.Prefilled = shared.Length;
            request.Cached = shared.Length;
            return;
        }

        request.Conversation = _executor.Create();
    }

    /// <summary>
    /// A new conversation's system prompt, forked from a kept conversation whose cache starts with the same one: the
    /// tokens up to the first user's text (the operator's text and the template's user marker) are identical for every
    /// user, so sharing their cells (llama.cpp copies the sequence onto the same cells) shows nobody anything of anybody
    /// else's. No token a user wrote is ever shared. Null when there is no such prefix of at least 16 tokens.
    /// </summary>
    private (Conversation Conversation, int Length)? SharedSystemPrompt(LLamaToken[] input)
    {
        if (SystemPromptLength(input) is not { } boundary
            || _kept.Values.FirstOrDefault(kept => HoldsSystemPrompt(kept, input, boundary)) is not { } source)
        {
            return null;
        }

        var fork = source.Conversation.Fork();
        fork.Rewind(fork.TokenCount - boundary);
        return (fork, boundary);
    }

    /// <summary>
    /// With a per-sequence layout, a new conversation's system prompt from the idle sequence that already holds it, as
    /// llama-server's slot selection reuses a slot's prompt: of the kept caches beginning with the same system prompt,
    /// the least recently used is parked (a copy: its next message restores it as usual), and its sequence, cut back to
    /// the system prompt, becomes the new conversation's. Only the operator's tokens (and the first user marker) stay
    /// on it, as with <see cref="SharedSystemPrompt"/>. Null when no kept cache holds a system prompt of at least 16
    /// tokens that this prompt starts with.
    /// </summary>
    private (Conversation Conversation, int Length)? TakeOverSystemPrompt(LLamaToken[] input)
    {
        if (SystemPromptLength(input) is not { } boundary)
        {
            return null;
        }

        string? sourceKey = null;
        KeptConversation? source = null;
        foreach (var (key, kept) in _kept)
        {
            if ((source is null || kept.LastUsed < source.LastUsed) && HoldsSystemPrompt(kept, input, boundary))
            {
                (sourceKey, source) = (key, kept);
            }
        }

        if (sourceKey is null || source is null)
        {
            return null;
        }

        Unkeep(sourceKey);
        _metrics.Evictions.Add(1, new KeyValuePair<string, object?>("reason", "taken_over"));
        if (!sourceKey.StartsWith(AnonymousPrefix, StringComparison.Ordinal))
        {
            _parked.ParkCopy(sourceKey, source.Conversation, source.Tokens, source.LastUsed, _executor.Context.NativeHandle);
        }

        source.Conversation.Rewind(source.Conversation.TokenCount - boundary);
        return (source.Conversation, boundary);
    }

    /// <summary>The tokens of <paramref name="input"/> up to its first user's text: the operator's system prompt, when
    /// it has at least 16 tokens, and the user-turn marker after it (template text, the same for everyone, as
    /// llama-server's slots reuse it); null otherwise.</summary>
    private int? SystemPromptLength(LLamaToken[] input) =>
        _userTurnToken is { } user && Array.IndexOf(input, user) is var marker && marker >= 16 ? marker + 1 : null;

    /// <summary>True when an idle kept cache begins with <paramref name="input"/>'s first <paramref name="length"/>
    /// tokens and holds more than them.</summary>
    private static bool HoldsSystemPrompt(KeptConversation kept, LLamaToken[] input, int length) =>
        kept.Tokens.Count > length && !kept.Conversation.RequiresInference && CommonPrefix(kept.Tokens, input) >= length;

    /// <summary>The anonymous kept cache sharing the longest prefix with <paramref name="input"/>, when it shares
    /// at least a tenth of it (llama-server's default slot similarity).</summary>
    private string? BestAnonymousMatch(LLamaToken[] input)
    {
        string? best = null;
        var bestCommon = 0;
        foreach (var (key, kept) in _kept)
        {
            if (key.StartsWith(AnonymousPrefix, StringComparison.Ordinal) && CommonPrefix(kept.Tokens, input) is var common && common > bestCommon)
            {
                (best, bestCommon) = (key, common);
            }
        }

        return bestCommon >= Math.Max(1, input.Length / 10) ? best : null;
    }

    /// <summary>Parks idle conversations, least recently used first, until one more sequence fits.</summary>
    private void MakeRoomForASequence()
    {
        while (_kept.Count > 0 && _active.Count + _kept.Count >= _plan.Sequences + _plan.Kept)
        {
            DropLeastRecentlyUsed(except: null, "sequences");
        }
    }

    /// <summary>Parks the least recently used idle cache (not <paramref name="except"/>); false when none is left.</summary>
    private bool DropLeastRecentlyUsed(string? except, string reason)
    {
        string? oldestKey = null;
        long oldestUse = long.MaxValue;
        foreach (var (key, kept) in _kept)
        {
            if (kept.LastUsed < oldestUse && key != except)
            {
                (oldestKey, oldestUse) = (key, kept.LastUsed);
            }
        }

        if (oldestKey is null)
        {
            return false;
        }

        var oldest = Unkeep(oldestKey)!;
        _metrics.Evictions.Add(1, new KeyValuePair<string, object?>("reason", reason));
        Park(oldestKey, oldest);
        return true;
    }

    private void Keep(string key, KeptConversation kept)
    {
        if (Unkeep(key) is { } replaced)
        {
            replaced.Conversation.Dispose(); // Two requests of one conversation at once: the newer cache wins.
        }

        _kept[key] = kept;
        _keptCells += kept.Tokens.Count;
    }

    private KeptConversation? Unkeep(string key)
    {
        if (!_kept.Remove(key, out var kept))
        {
            return null;
        }

        _keptCells -= kept.Tokens.Count;
        return kept;
    }

    /// <summary>Frees a dropped conversation's sequence, its KV state parked in memory or on disk first (an
    /// anonymous cache is only ever found on a sequence, so it is dropped).</summary>
    private void Park(string key, KeptConversation kept)
    {
        if (key.StartsWith(AnonymousPrefix, StringComparison.Ordinal))
        {
            kept.Conversation.Dispose();
            return;
        }

        _parked.Park(key, kept.Conversation, kept.Tokens, kept.LastUsed, _executor.Context.NativeHandle);
    }

    /// <summary>A preempted request that will not resume: its parked cache is not needed any more.</summary>
    private void Forget(GenerationRequest request)
    {
        if (request.ResumeKey is { } resume)
        {
            _parked.Forget(resume);
        }
    }

    /// <summary>Caches parked and restored since start, and where the parked ones are now.</summary>
    public ParkingSnapshot Parking => _parked.Snapshot;

    /// <summary>Requests preempted since start (each resumed later, or failed only if cancelled meanwhile).</summary>
    public long PreemptionCount => Interlocked.Read(ref _preemptions);

    /// <summary>KV cells now: in use by generating and kept conversations, and the total.</summary>
    public (int Used, int Total) Cells => (Volatile.Read(ref _publishedUsed), _cells);

    private void PublishCells() => Volatile.Write(ref _publishedUsed, UsedCells());

    /// <summary>
    /// Queues this step's tokens: generating requests were prompted with their last token when it was sampled;
    /// prefill fills the rest of the batch within the free cells, keeping one cell per generating conversation
    /// for the next step: messages first, in arrival order, then answers prefilled ahead.
    /// </summary>
    private void Schedule()
    {
        var generating = 0;
        foreach (var request in _active)
        {
            generating += request.Generating ? 1 : 0;
        }

        var budget = Math.Min(_options.BatchSize - _executor.BatchedTokenCount, FreeCells() - generating);
        // Answers prefilled ahead only fill steps no message is in: a prefill chunk in a step makes that step, and so
        // every generating user's next token, as slow as the chunk (on a CPU, a 512-token chunk is seconds).
        var passes = _active.Exists(r => !r.PrefillOnly) ? 1 : 2;
        for (var pass = 0; pass < passes && budget > 0; pass++)
        {
            foreach (var request in _active)
            {
                if (budget <= 0)
                {
                    break;
                }

                if (request.PrefillOnly == (pass == 1) && request.InPrefill && !request.Cancelled && !request.Conversation!.RequiresInference)
                {
                    var take = Math.Min(budget, request.Input.Length - request.Prefilled);
                    request.Conversation.Prompt(request.Input.AsSpan(request.Prefilled, take));
                    request.Fed.AddRange(request.Input.AsSpan(request.Prefilled, take));
                    request.Prefilled += take;
                    budget -= take;
                }
            }
        }
    }

    /// <summary>
    /// Before the sampled tokens are fed back, makes sure each has a cell: idle caches are parked first, then
    /// answers being prefilled ahead stop where they are (what they decoded is kept), and only then the youngest
    /// generating request is preempted: its cache is parked (or dropped, to be recomputed) and it waits first in
    /// line to resume, its output going on where it stopped. Nothing fails for want of KV memory.
    /// </summary>
    private void MakeRoomToGrow()
    {
        lock (_active)
        {
            while (true)
            {
                var growing = 0;
                foreach (var request in _active)
                {
                    growing += request.Generating && !request.Cancelled && !request.Finished ? 1 : 0;
                }

                if (FreeCells() >= growing || growing == 0)
                {
                    return;
                }

                if (DropLeastRecentlyUsed(except: null, "growth"))
                {
                    continue;
                }

                if (_active.FindLast(r => r.PrefillOnly && !r.Finished && !r.Conversation!.RequiresInference) is { } ahead)
                {
                    if (StopPrefillAhead(ahead))
                    {
                        DropLeastRecentlyUsed(except: null, "growth");
                    }

                    continue;
                }

                var candidates = _active.Where(r => !r.PrefillOnly && !r.Finished && !r.Cancelled && !r.Conversation!.RequiresInference).ToList();
                if (candidates.Count <= 1)
                {
                    return; // One conversation alone fits: Submit bounds its prompt and answer by the context.
                }

                var victim = candidates.MaxBy(r => r.AdmittedAt)!;

                Preempt(victim);
            }
        }
    }

    /// <summary>Stops the newest answer being prefilled ahead (<see cref="StopPrefillAhead"/>); false when none could
    /// stop this step.</summary>
    private bool StopAPrefillAhead() =>
        _active.FindLast(r => r.PrefillOnly && !r.Finished && !r.Conversation!.RequiresInference) is { } ahead && StopPrefillAhead(ahead);

    /// <summary>
    /// Stops an answer being prefilled ahead where it is: what it decoded becomes its conversation's kept cache (its
    /// next message continues from there) and its sequence is free. False when it cannot stop now (tokens of it are
    /// in the step being decoded) or decoded nothing yet: then it is only marked finished, and retires after the step.
    /// </summary>
    private bool StopPrefillAhead(GenerationRequest ahead)
    {
        if (ahead.Finished || ahead.Conversation!.RequiresInference)
        {
            return false;
        }

        ahead.Finish(ChatFinishReason.Length);
        if (ahead.ConversationKey is not { } key || ahead.Fed.Count == 0)
        {
            return false;
        }

        Keep(key, new KeptConversation(ahead.Conversation, [.. ahead.Fed], LastUsedAfter(ahead)));
        ahead.Conversation = null;
        _active.Remove(ahead);
        Release(ahead);
        return true;
    }

    /// <summary>The "last used" stamp of a cache a request leaves behind: now for a message; for an answer prefilled
    /// ahead (the engine's work, not the user's), the conversation keeps its place among the least recently used.</summary>
    private long LastUsedAfter(GenerationRequest request) =>
        request.PrefillOnly && request.KeptLastUsed is { } used ? used : ++_clock;

    private void Preempt(GenerationRequest victim)
    {
        var resumeKey = $"{PreemptedPrefix}{Interlocked.Increment(ref _preemptions)}";
        var tokens = new List<LLamaToken>(victim.Fed);
        _parked.Park(resumeKey, victim.Conversation!, tokens, long.MaxValue, _executor.Context.NativeHandle);
        victim.Preempted(resumeKey);
        _active.Remove(victim);
        _deferred.Insert(0, victim); // First in line: it resumes before anything new is admitted.
        _metrics.Preemptions.Add(1);
        Log.Preempted(_logger, tokens.Count, _active.Count);
    }

    /// <summary>
    /// Samples every request whose logits the last decode produced, before the next decode discards them. The
    /// sampling itself (one scan of the vocabulary's logits, or a draw from the decode's top-k candidates) and what
    /// follows for each request (detokenizing, stop sequences, its stream) run in parallel across cores when several
    /// conversations are ready: on one thread sampling halved GPU throughput at 16 conversations (inference-gpu.md),
    /// and the rest cost about 0.9 ms of a 17 ms step at 64 on an H200, with the GPU idle. Each request has its own
    /// sampler, logits row, decoder and stream, and nothing is decoding meanwhile; feeding the chosen tokens back
    /// into the shared batch stays on this thread, in order.
    /// </summary>
    private void SampleAll()
    {
        foreach (var request in _active)
        {
            if (request.PrefillOnly && !request.Finished && !request.InPrefill && !request.Conversation!.RequiresInference)
            {
                request.Finish(ChatFinishReason.Stop); // Its cache is complete; Retire keeps it for the next message.
            }
        }

        MakeRoomToGrow();
        var ready = _active.Where(r => !r.PrefillOnly && !r.Cancelled && !r.Finished && !r.InPrefill && r.Conversation!.RequiresSampling).ToArray();
        if (ready.Length == 0)
        {
            return;
        }

        var tokens = new LLamaToken[ready.Length];
        var goesOn = new bool[ready.Length];
        if (ready.Length >= _options.ParallelSamplingFrom && Environment.ProcessorCount > 1)
        {
            Parallel.For(0, ready.Length, i => goesOn[i] = SampleAndEmit(ready[i], out tokens[i]));
        }
        else
        {
            for (var i = 0; i < ready.Length; i++)
            {
                goesOn[i] = SampleAndEmit(ready[i], out tokens[i]);
            }
        }

        for (var i = 0; i < ready.Length; i++)
        {
            if (goesOn[i])
            {
                ready[i].Conversation!.Prompt(tokens[i]);
                ready[i].Fed.Add(tokens[i]);
            }
        }

        _drawnFromDecode += ready.Count(r => r.DrawsOnBackend);
    }

    /// <summary>
    /// Draws <paramref name="request"/>'s next token and passes its text on; true when the request goes on (the token
    /// is then fed back), false when it finished. Touches only the request's own state: safe in parallel.
    /// </summary>
    private bool SampleAndEmit(GenerationRequest request, out LLamaToken token)
    {
        // Top-k selected in the decode: only k candidates are read back and drawn from here.
        token = request.DrawsOnBackend ? _backend!.Draw(request.Conversation!, request.SpanSampler!) : SampleOne(request);
        request.Generated++;
        request.FirstTokenSampled();
        _metrics.GeneratedTokens.Add(1);
        if (token.IsEndOfGeneration(_weights.NativeHandle.Vocab))
        {
            request.Finish(ChatFinishReason.Stop);
            return false;
        }

        request.Decoder!.Add(token);
        if (request.Append(request.Decoder.Read()))
        {
            request.Finish(ChatFinishReason.Stop);
            return false;
        }

        if (request.Generated >= request.MaxTokens)
        {
            request.Finish(ChatFinishReason.Length);
            return false;
        }

        return true;
    }

    private static LLamaToken SampleOne(GenerationRequest request) =>
        request.SpanSampler is { } managed
            ? (LLamaToken)managed.Sample(request.Conversation!.Sample())
            : request.Conversation!.Sample(request.Sampler);

    /// <summary>Frees the sequences of finished and cancelled requests (once nothing is queued for them); a
    /// finished conversation's cache is kept for its next message.</summary>
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
                    else if (request.Succeeded && _plan.Kept > 0 && request.Fed.Count > 0
                        && (request.ConversationKey ?? (request.PrefillOnly ? null : $"{AnonymousPrefix}{++_anonymous}")) is { } key)
                    {
                        // Keep the cache for the conversation's next turn.
                        Keep(key, new KeptConversation(request.Conversation!, [.. request.Fed], LastUsedAfter(request)));
                        request.Conversation = null;
                        while (_kept.Count > _plan.Kept)
                        {
                            DropLeastRecentlyUsed(except: null, "kept_limit");
                        }
                    }

                    Release(request);
                    _active.RemoveAt(i);
                }
            }

            PublishCells();
        }
    }

    private void HandleDecodeFailure(DecodeResult result)
    {
        // Kept caches of idle conversations go first: they are only an optimisation. Admission and growth count
        // cells so that this is not reached; llama.cpp may still refuse (a cell layout it cannot fill).
        if (result == DecodeResult.NoKvSlot && DropLeastRecentlyUsed(except: null, "decode_failed"))
        {
            return;
        }

        // Nothing left to free: fail the newest request (freeing its sequence) so the others go on.
        GenerationRequest victim;
        lock (_active)
        {
            victim = _active[^1];
            _active.RemoveAt(_active.Count - 1);
        }

        Log.DecodeFailed(_logger, result, _active.Count + 1);
        victim.Fail(new LlamaEngineException(
            $"The KV cache is full ({result}; Model:Llama:ContextSize={_plan.Cells} tokens shared by {_active.Count + 1} conversations). " +
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

    /// <summary>KV cache bytes per token: K and V for every layer, at the KV heads' width.</summary>
    private static long KvBytesPerToken(LLamaWeights weights, LlamaEngineOptions options)
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
        return (long)Math.Ceiling(layers * 2 * kvWidth * bytesPerValue);
    }

    private static int BlockCount(string modelPath)
    {
        using var vocabOnly = LLamaWeights.LoadFromFile(new ModelParams(modelPath) { VocabOnly = true, GpuLayerCount = 0 });
        var architecture = vocabOnly.Metadata.GetValueOrDefault("general.architecture") ?? "llama";
        return int.TryParse(vocabOnly.Metadata.GetValueOrDefault(architecture + ".block_count"), out var blocks) ? blocks : 32;
    }

    public async ValueTask DisposeAsync()
    {
        _metrics.Untrack(this);
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
        _keptCells = 0;
        await _parked.DisposeAsync();
        while (_queue.Reader.TryRead(out var queued))
        {
            queued.Fail(new OperationCanceledException("The engine is shutting down."));
            queued.Dispose();
        }

        _backend?.Dispose();
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

        [LoggerMessage(WeSeekEventId.LlamaPreempted, LogLevel.Information, "KV cells ran out: the youngest request ({Tokens} tokens) was preempted and waits to resume; {Active} go on")]
        public static partial void Preempted(ILogger logger, int tokens, int active);

        [LoggerMessage(WeSeekEventId.LlamaBackendSamplingUnavailable, LogLevel.Warning, "Model:Llama:Sampler=backend is not possible here ({Problem}); tokens are sampled on the CPU (managed)")]
        public static partial void BackendSamplingUnavailable(ILogger logger, string problem);

        [LoggerMessage(WeSeekEventId.LlamaDecodeFailed, LogLevel.Warning, "llama.cpp decode returned {Result} with {Active} active conversations; failing the newest")]
        public static partial void DecodeFailed(ILogger logger, DecodeResult result, int active);
    }
}

/// <summary>An idle conversation's sequence and the tokens its KV cache holds.</summary>
internal sealed record KeptConversation(Conversation Conversation, List<LLamaToken> Tokens, long LastUsed);
