using System.Text;
using System.Text.Json;

namespace WeSeek.Inference.Llama.Models;

/// <summary>
/// The token list a synthesised model carries: either a compact synthetic byte-level BPE vocabulary, or a
/// real Qwen <c>tokenizer.json</c>; in both, the DeepSeek-R1 special tokens. With a full-size vocabulary
/// (151,936 rows) the specials sit at their real ids (BOS 151646, EOS 151643, …).
/// </summary>
internal sealed class R1Vocabulary
{
    public const string Bos = "<｜begin▁of▁sentence｜>";
    public const string Eos = "<｜end▁of▁sentence｜>";
    public const string User = "<｜User｜>";
    public const string Assistant = "<｜Assistant｜>";
    public const string ThinkOpen = "<think>";
    public const string ThinkClose = "</think>";

    /// <summary>The R1 added tokens and their ids in the Qwen-based distills (tokenizer_config.json).</summary>
    private static readonly (int Id, string Text, int Type)[] Specials =
    [
        (151643, Eos, TokenControl),
        (151644, User, TokenUserDefined),
        (151645, Assistant, TokenUserDefined),
        (151646, Bos, TokenControl),
        (151647, "<|EOT|>", TokenUserDefined),
        (151648, ThinkOpen, TokenUserDefined),
        (151649, ThinkClose, TokenUserDefined),
        (151650, "<|quad_start|>", TokenUserDefined),
        (151651, "<|quad_end|>", TokenUserDefined),
        (151652, "<|vision_start|>", TokenUserDefined),
        (151653, "<|vision_end|>", TokenUserDefined),
        (151654, "<|vision_pad|>", TokenUserDefined),
        (151655, "<|image_pad|>", TokenUserDefined),
        (151656, "<|video_pad|>", TokenUserDefined),
        (151657, "<tool_call>", TokenUserDefined),
        (151658, "</tool_call>", TokenUserDefined),
        (151659, "<｜tool▁calls▁begin｜>", TokenUserDefined),
        (151660, "<｜tool▁calls▁end｜>", TokenUserDefined),
        (151661, "<｜tool▁call▁begin｜>", TokenUserDefined),
        (151662, "<｜tool▁call▁end｜>", TokenUserDefined),
        (151663, "<｜tool▁sep｜>", TokenUserDefined),
        (151664, "<｜tool▁outputs▁begin｜>", TokenUserDefined),
    ];

    private const int TokenNormal = 1;
    private const int TokenControl = 3;
    private const int TokenUserDefined = 4;

    /// <summary>Padding rows are normal tokens (a random model generates them, and their text "[PADn]" then reaches
    /// history as a real answer's would), not user-defined: llama.cpp matches every control and user-defined token
    /// against every prompt it tokenizes, so 150,000 padding rows of that type made tokenizing cost about a
    /// millisecond per token, more than decoding it on a GPU.</summary>
    private const int TokenPadding = TokenNormal;

    private R1Vocabulary(List<string> tokens, List<int> types, List<string> merges)
    {
        Tokens = tokens;
        Types = types;
        Merges = merges;
    }

    public IReadOnlyList<string> Tokens { get; }

    public IReadOnlyList<int> Types { get; }

    public IReadOnlyList<string> Merges { get; }

    public int BosId => IndexOf(Bos);

    public int EosId => IndexOf(Eos);

    private int IndexOf(string token)
    {
        for (var i = Tokens.Count - 1; i >= 0; i--)
        {
            if (Tokens[i] == token)
            {
                return i;
            }
        }

        throw new InvalidOperationException($"The vocabulary has no {token}.");
    }

    /// <summary>
    /// A byte-level vocabulary: the 256 bytes in GPT-2's printable encoding, no merges (every byte is one
    /// token), then the R1 specials; padded to <paramref name="rows"/> with <c>[PADn]</c> when that is larger,
    /// in which case the specials get their real ids.
    /// </summary>
    public static R1Vocabulary Synthetic(int rows)
    {
        var tokens = new List<string>(Math.Max(rows, 512));
        var types = new List<int>(tokens.Capacity);
        foreach (var b in Enumerable.Range(0, 256))
        {
            tokens.Add(ByteEncoding.Encode((byte)b));
            types.Add(TokenNormal);
        }

        return WithSpecials(tokens, types, [], rows);
    }

    /// <summary>A real Hugging Face <c>tokenizer.json</c> (Qwen2 BPE), with the R1 specials at their ids.</summary>
    public static R1Vocabulary FromTokenizerJson(string path, int rows)
    {
        using var stream = File.OpenRead(path);
        using var json = JsonDocument.Parse(stream);
        var model = json.RootElement.GetProperty("model");
        if (model.GetProperty("type").GetString() != "BPE")
        {
            throw new InvalidDataException($"{path} is not a BPE tokenizer; the Qwen2 architecture needs one.");
        }

        var vocab = model.GetProperty("vocab").EnumerateObject().Select(p => (p.Value.GetInt32(), p.Name)).OrderBy(p => p.Item1).ToList();
        var tokens = new List<string>(rows);
        var types = new List<int>(rows);
        foreach (var (id, text) in vocab)
        {
            while (tokens.Count < id)
            {
                tokens.Add($"[PAD{tokens.Count}]");
                types.Add(TokenPadding);
            }

            tokens.Add(text);
            types.Add(TokenNormal);
        }

        var merges = model.GetProperty("merges").EnumerateArray()
            .Select(m => m.ValueKind == JsonValueKind.String ? m.GetString()! : $"{m[0].GetString()} {m[1].GetString()}")
            .ToList();
        return WithSpecials(tokens, types, merges, rows);
    }

    private static R1Vocabulary WithSpecials(List<string> tokens, List<int> types, List<string> merges, int rows)
    {
        var realIds = rows > Specials[^1].Id;
        foreach (var (id, text, type) in Specials)
        {
            if (realIds)
            {
                while (tokens.Count < id)
                {
                    tokens.Add($"[PAD{tokens.Count}]");
                    types.Add(TokenPadding);
                }

                if (tokens.Count == id)
                {
                    tokens.Add(text);
                    types.Add(type);
                }
                else
                {
                    tokens[id] = text;
                    types[id] = type;
                }
            }
            else
            {
                tokens.Add(text);
                types.Add(type);
            }
        }

        while (tokens.Count < rows)
        {
            tokens.Add($"[PAD{tokens.Count}]");
            types.Add(TokenPadding);
        }

        return new R1Vocabulary(tokens, types, merges);
    }

    /// <summary>GPT-2's byte-to-printable-character map, which byte-level BPE vocabularies are written in.</summary>
    private static class ByteEncoding
    {
        private static readonly string[] Map = Build();

        public static string Encode(byte b) => Map[b];

        private static string[] Build()
        {
            var map = new string[256];
            var next = 256;
            for (var b = 0; b < 256; b++)
            {
                var printable = b is >= '!' and <= '~' or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;
                map[b] = printable ? ((char)b).ToString() : ((char)next++).ToString();
            }

            return map;
        }
    }

    /// <summary>For diagnostics: the UTF-8 size of all token texts.</summary>
    public long TextBytes => Tokens.Sum(t => (long)Encoding.UTF8.GetByteCount(t));
}
