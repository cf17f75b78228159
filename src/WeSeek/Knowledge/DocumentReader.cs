using System.Text;
using AngleSharp.Html.Parser;

namespace WeSeek.Knowledge;

/// <summary>Reads a document as text with Markdown-style headings. Formats: .txt, .md/.markdown, .html/.htm.</summary>
internal static class DocumentReader
{
    public static readonly IReadOnlySet<string> Extensions = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
    {
        ".txt", ".md", ".markdown", ".html", ".htm",
    };

    public static bool IsSupported(string path) => Extensions.Contains(Path.GetExtension(path));

    /// <summary>The document's text; HTML is reduced to its headings and block text (scripts and styles dropped).</summary>
    public static string Read(string path, byte[] content)
    {
        var text = DecodeText(content);
        return Path.GetExtension(path).ToLowerInvariant() is ".html" or ".htm" ? HtmlToText(text) : text;
    }

    internal static string HtmlToText(string html)
    {
        var document = new HtmlParser().ParseDocument(html);
        var text = new StringBuilder();
        var title = document.Title;
        if (document.Body is not { } body)
        {
            return title ?? "";
        }

        foreach (var element in body.QuerySelectorAll("h1, h2, h3, h4, h5, h6, p, li, pre, blockquote, td, th, dt, dd"))
        {
            // An element inside one already taken (a <p> in an <li>) is part of that one's text.
            if (element.ParentElement?.Closest("p, li, pre, blockquote, td, th, dt, dd") is not null)
            {
                continue;
            }

            var content = string.Join(' ', element.TextContent.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
            if (content.Length == 0)
            {
                continue;
            }

            text.Append(element.LocalName is ['h', >= '1' and <= '6'] ? new string('#', element.LocalName[1] - '0') + " " + content : content).Append('\n');
        }

        return text.Length == 0 && !string.IsNullOrWhiteSpace(title) ? title : text.ToString();
    }

    private static string DecodeText(byte[] content)
    {
        // UTF-8 (with or without BOM) and UTF-16 with BOM; GB18030 files are common in China but need a code-page
        // provider, so they are read as UTF-8 and should be converted first.
        using var reader = new StreamReader(new MemoryStream(content), Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        return reader.ReadToEnd();
    }
}
