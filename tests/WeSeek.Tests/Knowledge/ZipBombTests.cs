using System.IO.Compression;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using WeSeek.Knowledge;
using WeSeek.TestKit;

namespace WeSeek.Tests.Knowledge;

/// <summary>Hostile .docx files (zip bombs) in <c>kb add</c>: refused as unreadable after reading at most the
/// limits, while the real documents beside them are added.</summary>
public sealed class ZipBombTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Docx_MainPartInflatingFarBeyondTheXmlLimit_IsRefusedAndTheGoodFileAdded()
    {
        // The reported attack, scaled down: a few hundred KB of deflate that inflate to 64 MiB of WordprocessingML
        // (the original: 3.5 MB to 1.5 GB, 3.7 GB of memory and no end).
        using var corpus = new TempDirectory();
        await File.WriteAllBytesAsync(Path.Combine(corpus.Path, "a-bomb.docx"), Bomb(64L * 1024 * 1024), Ct);
        await File.WriteAllBytesAsync(Path.Combine(corpus.Path, "b-good.docx"), TestDocuments.Docx((null, "Receipts must be submitted within thirty days.")), Ct);
        await using var harness = await KnowledgeBaseTests.CreateAsync(ScriptedChatClient.Echo());
        var index = harness.Services.GetRequiredService<KnowledgeIndex>();

        var outcomes = KnowledgeBaseTests.Ingest(index, corpus.Path);

        Assert.Equal([IngestOutcome.Unreadable, IngestOutcome.Added], outcomes.Select(o => o.Outcome));
        Assert.Equal("b-good.docx", Assert.Single(index.List()).Source);
    }

    [Fact]
    public void Docx_EntryWithAHighCompressionRatio_IsRefused()
    {
        var docx = WithEntry(TestDocuments.Docx((null, "text")), "word/media/image1.png", 8 * 1024 * 1024);

        var error = Assert.Throws<InvalidDataException>(() => DocumentReader.DocxToText(docx));

        Assert.Contains("zip bomb", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Docx_WithTooManyEntries_IsRefused()
    {
        using var stream = new MemoryStream();
        stream.Write(TestDocuments.Docx((null, "text")));
        using (var archive = new ZipArchive(stream, ZipArchiveMode.Update, leaveOpen: true))
        {
            for (var i = 0; i <= ZipLimits.MaxEntries; i++)
            {
                archive.CreateEntry($"customXml/item{i}.xml");
            }
        }

        var error = Assert.Throws<InvalidDataException>(() => DocumentReader.DocxToText(stream.ToArray()));

        Assert.Contains("entries", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Docx_Ordinary_IsStillRead() =>
        Assert.Contains("Receipts", DocumentReader.DocxToText(TestDocuments.Docx((null, "Receipts must be submitted."))), StringComparison.Ordinal);

    /// <summary>A real .docx whose word/document.xml is replaced by <paramref name="bytes"/> of paragraphs.</summary>
    private static byte[] Bomb(long bytes)
    {
        using var stream = new MemoryStream();
        stream.Write(TestDocuments.Docx((null, "cover")));
        using (var archive = new ZipArchive(stream, ZipArchiveMode.Update, leaveOpen: true))
        {
            archive.GetEntry("word/document.xml")!.Delete();
            using var part = new StreamWriter(archive.CreateEntry("word/document.xml", CompressionLevel.Fastest).Open(), new UTF8Encoding(false));
            part.Write("<w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\"><w:body>");
            var paragraph = string.Concat(Enumerable.Repeat("<w:p><w:r><w:t>a</w:t></w:r></w:p>", 1024));
            for (long written = 0; written < bytes; written += paragraph.Length)
            {
                part.Write(paragraph);
            }

            part.Write("</w:body></w:document>");
        }

        return stream.ToArray();
    }

    private static byte[] WithEntry(byte[] docx, string name, int zeros)
    {
        using var stream = new MemoryStream();
        stream.Write(docx);
        using (var archive = new ZipArchive(stream, ZipArchiveMode.Update, leaveOpen: true))
        {
            using var entry = archive.CreateEntry(name, CompressionLevel.Optimal).Open();
            entry.Write(new byte[zeros]);
        }

        return stream.ToArray();
    }
}
