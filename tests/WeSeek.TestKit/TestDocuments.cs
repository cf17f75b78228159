using DocumentFormat.OpenXml;
using DocumentFormat.OpenXml.Packaging;
using DocumentFormat.OpenXml.Wordprocessing;
using PdfPageSize = UglyToad.PdfPig.Content.PageSize;
using UglyToad.PdfPig.Core;
using UglyToad.PdfPig.Fonts.Standard14Fonts;
using UglyToad.PdfPig.Writer;

namespace WeSeek.TestKit;

/// <summary>
/// PDF and Word files written by the tests themselves, with the same libraries the product reads them with
/// (PdfPig's writer, the Open XML SDK), so no document is checked in.
/// </summary>
public static class TestDocuments
{
    /// <summary>
    /// A PDF with one page per entry, one text line per string, in Helvetica. Latin text only: a standard-14 font
    /// has no Chinese glyphs, and embedding a CJK font would need a font file the test machine may not have.
    /// </summary>
    public static byte[] Pdf(params string[][] pages)
    {
        ArgumentNullException.ThrowIfNull(pages);
        using var builder = new PdfDocumentBuilder();
        var font = builder.AddStandard14Font(Standard14Font.Helvetica);
        foreach (var lines in pages)
        {
            var page = builder.AddPage(PdfPageSize.A4);
            var y = 780.0;
            foreach (var line in lines)
            {
                page.AddText(line, 12, new PdfPoint(60, y), font);
                y -= 18;
            }
        }

        return builder.Build();
    }

    /// <summary>
    /// A Word document of paragraphs, each with a paragraph style id or null. The style part defines the ids an
    /// English Word writes ("Title", "Heading1", "Heading2") and the ones a Chinese Word writes ("1", "2" named
    /// "heading 1", "heading 2"), plus "Body".
    /// </summary>
    public static byte[] Docx(params (string? Style, string Text)[] paragraphs)
    {
        ArgumentNullException.ThrowIfNull(paragraphs);
        using var stream = new MemoryStream();
        using (var document = WordprocessingDocument.Create(stream, WordprocessingDocumentType.Document))
        {
            var main = document.AddMainDocumentPart();
            var body = new Body();
            foreach (var (style, text) in paragraphs)
            {
                var paragraph = new Paragraph();
                if (style is not null)
                {
                    paragraph.AppendChild(new ParagraphProperties(new ParagraphStyleId { Val = style }));
                }

                paragraph.AppendChild(new Run(new Text(text) { Space = SpaceProcessingModeValues.Preserve }));
                body.AppendChild(paragraph);
            }

            main.Document = new Document(body);
            var styles = main.AddNewPart<StyleDefinitionsPart>();
            styles.Styles = new Styles(
                ParagraphStyle("Title", "Title"),
                ParagraphStyle("Heading1", "heading 1"),
                ParagraphStyle("Heading2", "heading 2"),
                ParagraphStyle("1", "heading 1"),
                ParagraphStyle("2", "heading 2"),
                ParagraphStyle("Body", "Body Text"));
        }

        return stream.ToArray();
    }

    private static Style ParagraphStyle(string id, string name) =>
        new(new StyleName { Val = name }) { Type = StyleValues.Paragraph, StyleId = id };
}
