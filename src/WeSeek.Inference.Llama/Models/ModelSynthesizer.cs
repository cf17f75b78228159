using System.Runtime.InteropServices;

namespace WeSeek.Inference.Llama.Models;

/// <summary>
/// Writes a GGUF model of the Qwen2 architecture (the R1 distills' architecture) with random weights, the
/// DeepSeek-R1 special tokens and the R1 chat template, at a named shape. This is how tests, benchmarks and
/// offline demos get models; the text it generates is random.
/// </summary>
public static class ModelSynthesizer
{
    /// <summary>
    /// The R1 chat template, written for WeSeek with the rules of DeepSeek's Jinja: BOS, the system prompt
    /// raw after it, assistant turns cut to the text after the last <c>&lt;/think&gt;</c>, and
    /// <c>&lt;｜Assistant｜&gt;&lt;think&gt;\n</c> as the generation prompt. llama.cpp recognises it by its markers
    /// as its built-in <c>deepseek3</c> format.
    /// </summary>
    public const string R1ChatTemplate =
        "{% if not add_generation_prompt is defined %}{% set add_generation_prompt = false %}{% endif %}" +
        "{% set ns = namespace(system='') %}{% for message in messages %}{% if message['role'] == 'system' %}{% set ns.system = message['content'] %}{% endif %}{% endfor %}" +
        "{{ bos_token }}{{ ns.system }}" +
        "{% for message in messages %}" +
        "{% if message['role'] == 'user' %}{{ '<｜User｜>' + message['content'] }}" +
        "{% elif message['role'] == 'assistant' %}{% set content = message['content'] %}{% if '</think>' in content %}{% set content = content.split('</think>')[-1] %}{% endif %}" +
        "{{ '<｜Assistant｜>' + content + '<｜end▁of▁sentence｜>' }}{% endif %}" +
        "{% endfor %}" +
        "{% if add_generation_prompt %}{{ '<｜Assistant｜><think>\\n' }}{% endif %}";

    /// <summary>Writes the model and returns its parameter count.</summary>
    /// <param name="path">The output file (overwritten).</param>
    /// <param name="shape">The dimensions.</param>
    /// <param name="quantization">F16/Q8_0/Q4_K_M; null writes F32 (exact, largest).</param>
    /// <param name="tokenizerJson">A Hugging Face tokenizer.json (Qwen2 BPE), or null for a byte-level vocabulary.</param>
    /// <param name="seed">Weights are a deterministic function of the seed.</param>
    /// <param name="progress">0..1 while writing.</param>
    public static long Write(string path, ModelShape shape, ModelQuantization? quantization = null, string? tokenizerJson = null, int seed = 1, IProgress<double>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(shape);
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(directory);
        var rows = shape.VocabularySize;
        var vocabulary = tokenizerJson is null ? R1Vocabulary.Synthetic(rows) : R1Vocabulary.FromTokenizerJson(tokenizerJson, rows);
        // Embedding rows are a multiple of 64 (as llama.cpp's converter pads), or the vocabulary's size.
        var vocab = Math.Max(rows, (vocabulary.Tokens.Count + 63) / 64 * 64);
        if (vocabulary.Tokens.Count < vocab)
        {
            vocabulary = tokenizerJson is null ? R1Vocabulary.Synthetic(vocab) : R1Vocabulary.FromTokenizerJson(tokenizerJson, vocab);
        }

        // F16 is the intermediate for quantised outputs, except for shapes too small for K-quant rows,
        // where F32 keeps the fallback types exact.
        var dataType = quantization is null || shape.EmbeddingLength < 256 ? GgmlType.F32 : GgmlType.F16;
        var gguf = Describe(shape, vocabulary, vocab, dataType, seed);
        var target = quantization is null || quantization == ModelQuantization.F16 && dataType == GgmlType.F16 ? path : path + ".intermediate.gguf";
        using (var file = new FileStream(target, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
        {
            gguf.Write(file, quantization is null || target == path ? progress : new Progress<double>(p => progress?.Report(p * 0.5)));
        }

        if (target != path)
        {
            try
            {
                ModelQuantizer.Quantize(target, path, quantization!.Value);
                progress?.Report(1);
            }
            finally
            {
                File.Delete(target);
            }
        }

        return gguf.ParameterCount;
    }

    /// <summary>
    /// Writes a LoRA adapter for a model of <paramref name="shape"/> in llama.cpp's adapter format (what
    /// <c>convert_lora_to_gguf.py</c> writes for a PEFT adapter trained with <c>target_modules = [q_proj, v_proj,
    /// down_proj]</c>): random A and B, so that it visibly changes what the model generates. For tests and demos of
    /// the adapter path; it teaches the model nothing.
    /// </summary>
    /// <param name="path">The output file (overwritten).</param>
    /// <param name="shape">The base model's dimensions.</param>
    /// <param name="rank">LoRA rank r.</param>
    /// <param name="alpha">LoRA alpha: llama.cpp scales the update by alpha / r.</param>
    /// <param name="seed">A and B are a deterministic function of the seed.</param>
    /// <param name="architecture">Written as <c>general.architecture</c>; another value makes an adapter for another base.</param>
    public static void WriteLoraAdapter(string path, ModelShape shape, int rank = 4, float alpha = 8f, int seed = 7, string architecture = "qwen2")
    {
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentOutOfRangeException.ThrowIfLessThan(rank, 1);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var gguf = new GgufWriter();
        gguf.Add("general.architecture", architecture);
        gguf.Add("general.type", "adapter");
        gguf.Add("general.name", $"WeSeek synthetic LoRA for {shape.Name} (random weights)");
        gguf.Add("adapter.type", "lora");
        gguf.Add("adapter.lora.alpha", alpha);
        long embd = shape.EmbeddingLength, kv = (long)shape.HeadCountKv * shape.HeadDimension, ff = shape.FeedForwardLength;
        var index = 0;
        for (var layer = 0; layer < shape.BlockCount; layer++)
        {
            foreach (var (weight, input, output) in new[] { ("attn_q", embd, embd), ("attn_v", embd, kv), ("ffn_down", ff, embd) })
            {
                // ne = [in, r] and [r, out]: the layout llama.cpp multiplies (B · (A · x)).
                var name = $"blk.{layer}.{weight}.weight";
                gguf.AddTensor(name + ".lora_a", GgmlType.F32, [input, rank], RandomData(GgmlType.F32, [input, rank], seed, index++, 0.1f));
                gguf.AddTensor(name + ".lora_b", GgmlType.F32, [rank, output], RandomData(GgmlType.F32, [rank, output], seed, index++, 0.1f));
            }
        }

        using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
        gguf.Write(file);
    }

    private static GgufWriter Describe(ModelShape shape, R1Vocabulary vocabulary, int vocab, GgmlType type, int seed)
    {
        var gguf = new GgufWriter();
        gguf.Add("general.architecture", "qwen2");
        gguf.Add("general.name", $"WeSeek synthetic {shape.Name} (random weights)");
        // Read back by GgufInfo.IsSynthetic: whatever path loads this file, the operator is told its answers are noise.
        gguf.Add(GgufInfo.SyntheticKey, true);
        gguf.Add("general.file_type", type == GgmlType.F32 ? 0u : 1u);
        gguf.Add("qwen2.context_length", (uint)shape.ContextLength);
        gguf.Add("qwen2.embedding_length", (uint)shape.EmbeddingLength);
        gguf.Add("qwen2.block_count", (uint)shape.BlockCount);
        gguf.Add("qwen2.feed_forward_length", (uint)shape.FeedForwardLength);
        gguf.Add("qwen2.attention.head_count", (uint)shape.HeadCount);
        gguf.Add("qwen2.attention.head_count_kv", (uint)shape.HeadCountKv);
        gguf.Add("qwen2.rope.freq_base", shape.RopeFreqBase);
        gguf.Add("qwen2.attention.layer_norm_rms_epsilon", 1e-6f);
        gguf.Add("tokenizer.ggml.model", "gpt2");
        gguf.Add("tokenizer.ggml.pre", "deepseek-r1-qwen");
        gguf.Add("tokenizer.ggml.tokens", vocabulary.Tokens);
        gguf.Add("tokenizer.ggml.token_type", vocabulary.Types);
        gguf.Add("tokenizer.ggml.merges", vocabulary.Merges);
        gguf.Add("tokenizer.ggml.bos_token_id", (uint)vocabulary.BosId);
        gguf.Add("tokenizer.ggml.eos_token_id", (uint)vocabulary.EosId);
        gguf.Add("tokenizer.ggml.padding_token_id", (uint)vocabulary.EosId);
        gguf.Add("tokenizer.ggml.add_bos_token", true);
        gguf.Add("tokenizer.ggml.add_eos_token", false);
        gguf.Add("tokenizer.chat_template", R1ChatTemplate);

        long embd = shape.EmbeddingLength, kv = (long)shape.HeadCountKv * shape.HeadDimension, ff = shape.FeedForwardLength;
        var index = 0;
        void Weights(string name, params long[] dims) => gguf.AddTensor(name, type, dims, RandomData(type, dims, seed, index++, 0.02f));
        void Ones(string name, long length) => gguf.AddTensor(name, GgmlType.F32, [length], Constant(length, 1f));
        void Bias(string name, long length) => gguf.AddTensor(name, GgmlType.F32, [length], RandomData(GgmlType.F32, [length], seed, index++, 0.01f));

        Weights("token_embd.weight", embd, vocab);
        for (var layer = 0; layer < shape.BlockCount; layer++)
        {
            var p = $"blk.{layer}.";
            Ones(p + "attn_norm.weight", embd);
            Weights(p + "attn_q.weight", embd, embd);
            Bias(p + "attn_q.bias", embd);
            Weights(p + "attn_k.weight", embd, kv);
            Bias(p + "attn_k.bias", kv);
            Weights(p + "attn_v.weight", embd, kv);
            Bias(p + "attn_v.bias", kv);
            Weights(p + "attn_output.weight", embd, embd);
            Ones(p + "ffn_norm.weight", embd);
            Weights(p + "ffn_gate.weight", embd, ff);
            Weights(p + "ffn_up.weight", embd, ff);
            Weights(p + "ffn_down.weight", ff, embd);
        }

        Ones("output_norm.weight", embd);
        if (!shape.TiedEmbeddings)
        {
            Weights("output.weight", embd, vocab);
        }

        return gguf;
    }

    private static Action<Stream> Constant(long length, float value) => stream =>
    {
        var buffer = new float[length];
        Array.Fill(buffer, value);
        stream.Write(MemoryMarshal.AsBytes(buffer.AsSpan()));
    };

    /// <summary>Uniform noise of the given scale from a xorshift generator seeded per tensor: fast enough
    /// to write gigabytes, and the same bytes for the same seed.</summary>
    private static Action<Stream> RandomData(GgmlType type, long[] dims, int seed, int tensor, float scale) => stream =>
    {
        var state = (ulong)(uint)seed * 0x9E3779B97F4A7C15UL ^ (ulong)(tensor + 1) * 0xBF58476D1CE4E5B9UL;
        if (state == 0)
        {
            state = 1;
        }

        var remaining = dims.Aggregate(1L, (a, b) => a * b);
        const int chunk = 1 << 16;
        var floats = new float[chunk];
        var halves = new Half[chunk];
        while (remaining > 0)
        {
            var n = (int)Math.Min(chunk, remaining);
            for (var i = 0; i < n; i++)
            {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                floats[i] = ((float)(state >> 40) / (1 << 24) * 2f - 1f) * scale;
            }

            if (type == GgmlType.F16)
            {
                for (var i = 0; i < n; i++)
                {
                    halves[i] = (Half)floats[i];
                }

                stream.Write(MemoryMarshal.AsBytes(halves.AsSpan(0, n)));
            }
            else
            {
                stream.Write(MemoryMarshal.AsBytes(floats.AsSpan(0, n)));
            }

            remaining -= n;
        }
    };
}
