using System.Text;
using AngleSharp.Html.Parser;
using DocumentFormat.OpenXml.Packaging;
using DocumentFormat.OpenXml.Wordprocessing;
using UglyToad.PdfPig;
using UglyToad.PdfPig.DocumentLayoutAnalysis.TextExtractor;

namespace WeSeek.Knowledge;

/// <summary>
/// Reads a document as text with Markdown-style headings, which the chunker cuts at. Formats: .txt, .md/.markdown,
/// .html/.htm, .pdf (text in reading order, page by page; a PDF has no headings to keep) and .docx (headings from
/// the paragraph styles: Title, Heading 1…6 or an outline level).
/// </summary>
internal static class DocumentReader
{
    public static readonly IReadOnlySet<string> Extensions = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
    {
        ".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx",
    };

    public static bool IsSupported(string path) => Extensions.Contains(Path.GetExtension(path));

    /// <summary>
    /// The document's text; HTML is reduced to its headings and block text (scripts and styles dropped). Throws
    /// <see cref="InvalidDataException"/> when a PDF or Word file cannot be read (damaged, encrypted, not that format).
    /// </summary>
    public static string Read(string path, byte[] content) => Path.GetExtension(path).ToLowerInvariant() switch
    {
        ".html" or ".htm" => HtmlToText(DecodeText(content)),
        ".pdf" => PdfToText(content),
        ".docx" => DocxToText(content),
        _ => DecodeText(content),
    };

    internal static string PdfToText(byte[] content)
    {
        try
        {
            using var document = PdfDocument.Open(content);
            var text = new StringBuilder();
            foreach (var page in document.GetPages())
            {
                // Reading order with line ends kept: the chunker joins a wrapped line to the next (without a space
                // between Chinese characters) and cuts at sentence ends, so a sentence across a page break stays one.
                text.Append(ContentOrderTextExtractor.GetText(page)).Append('\n');
            }

            return text.ToString();
        }
        catch (Exception ex) when (ex is not OutOfMemoryException and not InvalidDataException)
        {
            throw new InvalidDataException("not a readable PDF: " + ex.Message, ex);
        }
    }

    internal static string DocxToText(byte[] content)
    {
        // Before the SDK sees it: the SDK inflates parts whole, so a zip bomb would take the memory first.
        ZipLimits.Check(content, "Word (.docx) document");
        try
        {
            using var stream = new MemoryStream(content, writable: false);
            using var document = WordprocessingDocument.Open(stream, isEditable: false);
            var main = document.MainDocumentPart;
            if (main?.Document?.Body is not { } body)
            {
                return "";
            }

            var styles = main.StyleDefinitionsPart?.Styles?.Elements<Style>()
                .Where(s => s.StyleId?.Value is not null)
                .GroupBy(s => s.StyleId!.Value!, StringComparer.Ordinal)
                .ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal) ?? [];
            var text = new StringBuilder();
            foreach (var paragraph in body.Descendants<Paragraph>())
            {
                var line = paragraph.InnerText.Trim();
                if (line.Length == 0)
                {
                    continue;
                }

                var level = HeadingLevel(paragraph, styles);
                text.Append(level > 0 ? new string('#', level) + " " + line : line).Append('\n');
            }

            return text.ToString();
        }
        catch (Exception ex) when (ex is not OutOfMemoryException and not InvalidDataException)
        {
            throw new InvalidDataException("not a readable Word (.docx) document: " + ex.Message, ex);
        }
    }

    /// <summary>
    /// 1…6 for a heading paragraph, else 0. Word writes the style's id in the language it was made in ("Heading1",
    /// or "1" in a Chinese Word), so the style's name ("heading 1", "Title") and outline level decide, then the id.
    /// </summary>
    private static int HeadingLevel(Paragraph paragraph, Dictionary<string, Style> styles)
    {
        if (paragraph.ParagraphProperties?.OutlineLevel?.Val?.Value is int outline and < 6)
        {
            return outline + 1;
        }

        var styleId = paragraph.ParagraphProperties?.ParagraphStyleId?.Val?.Value;
        for (var depth = 0; styleId is not null && depth < 10; depth++)
        {
            var style = styles.GetValueOrDefault(styleId);
            var name = style?.StyleName?.Val?.Value ?? styleId;
            if (string.Equals(name, "Title", StringComparison.OrdinalIgnoreCase))
            {
                return 1;
            }

            var compact = name.Replace(" ", "", StringComparison.Ordinal);
            if (compact.StartsWith("heading", StringComparison.OrdinalIgnoreCase) && compact.Length == 8 && compact[7] is >= '1' and <= '6')
            {
                return compact[7] - '0';
            }

            if (style?.StyleParagraphProperties?.OutlineLevel?.Val?.Value is int styleOutline and < 6)
            {
                return styleOutline + 1;
            }

            // A custom style based on a heading is that heading.
            styleId = style?.BasedOn?.Val?.Value;
        }

        return 0;
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
