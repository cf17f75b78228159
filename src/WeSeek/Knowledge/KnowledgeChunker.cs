using System.Text;

namespace WeSeek.Knowledge;

/// <summary>One passage of a document: the headings above it and its text.</summary>
/// <param name="Heading">The heading path ("假期 / 年假"), or empty before the first heading.</param>
/// <param name="Text">The passage.</param>
internal sealed record Chunk(string Heading, string Text);

/// <summary>
/// Cuts a document (Markdown-style headings, plain paragraphs) into passages of about a target length: a new
/// heading always starts a new passage, passages end at sentence ends (。！？；!?; and line ends), and only a
/// sentence longer than the target is cut inside.
/// </summary>
internal static class KnowledgeChunker
{
    private static readonly char[] SentenceEnds = ['。', '！', '？', '；', '!', '?', ';'];

    public static List<Chunk> Split(string text, int target)
    {
        ArgumentNullException.ThrowIfNull(text);
        var chunks = new List<Chunk>();
        var headings = new List<(int Level, string Title)>();
        var current = new StringBuilder();

        void Flush()
        {
            var passage = current.ToString().Trim();
            if (passage.Length > 0)
            {
                chunks.Add(new Chunk(string.Join(" / ", headings.Select(h => h.Title)), passage));
            }

            current.Clear();
        }

        foreach (var rawLine in text.ReplaceLineEndings("\n").Split('\n'))
        {
            var line = rawLine.Trim();
            if (HeadingLevel(line) is int level and > 0)
            {
                Flush();
                headings.RemoveAll(h => h.Level >= level);
                headings.Add((level, line[level..].Trim().TrimEnd('#').Trim()));
                continue;
            }

            foreach (var sentence in Sentences(line))
            {
                if (current.Length > 0 && current.Length + sentence.Length > target)
                {
                    Flush();
                }

                for (var start = 0; start < sentence.Length; start += target)
                {
                    var piece = sentence.Substring(start, Math.Min(target, sentence.Length - start));
                    if (current.Length > 0 && current.Length + piece.Length > target)
                    {
                        Flush();
                    }

                    current.Append(piece);
                }
            }

            // A line end is a soft boundary: keep short lines (list items) together, with a space for Latin text.
            if (current.Length > 0 && current[^1] != ' ')
            {
                current.Append(IsCjk(current[^1]) ? "" : " ");
            }
        }

        Flush();
        return chunks;
    }

    private static int HeadingLevel(string line)
    {
        var level = 0;
        while (level < line.Length && level < 6 && line[level] == '#')
        {
            level++;
        }

        return level > 0 && level < line.Length && line[level] == ' ' ? level : 0;
    }

    private static IEnumerable<string> Sentences(string line)
    {
        var start = 0;
        while (start < line.Length)
        {
            var end = line.IndexOfAny(SentenceEnds, start);
            end = end < 0 ? line.Length : end + 1;

            // Closing quotes and brackets stay with their sentence.
            while (end < line.Length && line[end] is '”' or '」' or '』' or '）' or ')' or '"')
            {
                end++;
            }

            yield return line[start..end];
            start = end;
        }
    }

    private static bool IsCjk(char c) => c is >= '\u3000' and <= '\u9fff' or >= '\uff00' and <= '\uffef';
}
