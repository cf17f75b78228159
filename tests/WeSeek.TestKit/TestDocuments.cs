using System.Globalization;
using System.Text;
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
    /// A PDF with one page per entry, one text line per string, in Helvetica, written by PdfPig's builder. Latin
    /// text only: a standard-14 font has no Chinese glyphs (see <see cref="ChinesePdf"/>).
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
    /// A PDF in Chinese, one page per entry and one line per string, written as many Chinese PDFs are: the text in
    /// Adobe's standard Simplified Chinese font STSong-Light, not embedded (the reader's own CJK font draws it),
    /// through the predefined CMap UniGB-UTF16-H, so each character is its UTF-16 code in the content stream. PdfPig's
    /// writer embeds TrueType fonts only, and no CJK font file can be assumed on a test machine; this needs none.
    /// </summary>
    public static byte[] ChinesePdf(params string[][] pages)
    {
        ArgumentNullException.ThrowIfNull(pages);
        var objects = new List<string>
        {
            "<< /Type /Catalog /Pages 2 0 R >>",
            $"<< /Type /Pages /Kids [{string.Join(' ', pages.Select((_, i) => $"{5 + (2 * i)} 0 R"))}] /Count {pages.Length} >>",
            "<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UTF16-H /DescendantFonts [4 0 R] >>",
            "<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light /CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 4 >> "
                + "/FontDescriptor << /Type /FontDescriptor /FontName /STSong-Light /Flags 6 /FontBBox [-25 -254 1000 880] /ItalicAngle 0 /Ascent 880 /Descent -120 /CapHeight 880 /StemV 93 >> /DW 1000 >>",
        };
        for (var i = 0; i < pages.Length; i++)
        {
            var content = new StringBuilder("BT /F1 12 Tf 16 TL 60 780 Td\n");
            foreach (var line in pages[i])
            {
                content.Append('<').Append(Convert.ToHexString(Encoding.BigEndianUnicode.GetBytes(line))).Append("> Tj T*\n");
            }

            content.Append("ET");
            objects.Add($"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> /Contents {6 + (2 * i)} 0 R >>");
            objects.Add($"<< /Length {content.Length} >>\nstream\n{content}\nendstream");
        }

        // Everything is ASCII, so character offsets are byte offsets (the cross-reference table needs those).
        var pdf = new StringBuilder("%PDF-1.7\n");
        var offsets = new List<int>(objects.Count);
        for (var i = 0; i < objects.Count; i++)
        {
            offsets.Add(pdf.Length);
            pdf.Append(CultureInfo.InvariantCulture, $"{i + 1} 0 obj\n{objects[i]}\nendobj\n");
        }

        var xref = pdf.Length;
        pdf.Append(CultureInfo.InvariantCulture, $"xref\n0 {objects.Count + 1}\n0000000000 65535 f \n");
        foreach (var offset in offsets)
        {
            pdf.Append(CultureInfo.InvariantCulture, $"{offset:D10} 00000 n \n");
        }

        pdf.Append(CultureInfo.InvariantCulture, $"trailer\n<< /Size {objects.Count + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n");
        return Encoding.ASCII.GetBytes(pdf.ToString());
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
