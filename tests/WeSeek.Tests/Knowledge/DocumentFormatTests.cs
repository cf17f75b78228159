using Microsoft.Extensions.DependencyInjection;
using WeSeek.Knowledge;
using WeSeek.TestKit;
using WeSeek.Tests.Inbox;

namespace WeSeek.Tests.Knowledge;

/// <summary>PDF and Word documents, written by the tests, read into the knowledge base.</summary>
public sealed class DocumentFormatTests
{
    private static readonly (string? Style, string Text)[] Handbook =
    [
        ("1", "假期制度"),
        ("2", "年假"),
        (null, "员工每年享有十天带薪年假，未休完的年假可以顺延到次年三月底。"),
        ("Heading2", "病假"),
        ("Body", "病假需要提供二级以上医院的证明，每月三天以内不扣工资。"),
        ("Heading1", "Reimbursement"),
        (null, "Receipts must be submitted within thirty days."),
    ];

    [Fact]
    public void Docx_HeadingsComeFromTheParagraphStyles_InEnglishAndChineseWord()
    {
        var text = DocumentReader.Read("手册.docx", TestDocuments.Docx(Handbook));

        Assert.Equal(
            "# 假期制度\n## 年假\n员工每年享有十天带薪年假，未休完的年假可以顺延到次年三月底。\n## 病假\n病假需要提供二级以上医院的证明，每月三天以内不扣工资。\n# Reimbursement\nReceipts must be submitted within thirty days.\n",
            text);
    }

    [Fact]
    public async Task Docx_PassagesCarryTheirHeadingPath_AndTheAnswerCitesTheFile()
    {
        using var corpus = new TempDirectory();
        await File.WriteAllBytesAsync(Path.Combine(corpus.Path, "手册.docx"), TestDocuments.Docx(Handbook), TestContext.Current.CancellationToken);
        var client = new ScriptedChatClient(_ => ["可以顺延到次年三月底。"]);
        await using var harness = await KnowledgeBaseTests.CreateAsync(client);
        var index = harness.Services.GetRequiredService<KnowledgeIndex>();

        var (_, outcome, passages) = Assert.Single(KnowledgeBaseTests.Ingest(index, corpus.Path));
        Assert.Equal(IngestOutcome.Added, outcome);
        Assert.Equal(3, passages);
        Assert.Equal("假期制度 / 病假", index.Search("病假需要什么证明", 1)[0].Heading);

        await harness.ReceiveAsync("m1", "alice", "年假没休完能顺延吗？");
        await harness.RunTurnsAsync();

        Assert.Contains("假期制度 / 年假：员工每年享有十天带薪年假", Assert.Single(client.Calls)[^1].Text, StringComparison.Ordinal);
        Assert.Contains("来源：手册.docx", string.Join('\n', await DurableInboxTests.OutboxTextsAsync(harness)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Pdf_TheTextOfEveryPageIsIndexed_InReadingOrder()
    {
        using var corpus = new TempDirectory();
        var pdf = TestDocuments.Pdf(
            ["Travel policy", "Economy class is booked for flights under six hours."],
            ["Parking", "Parking permits are issued by the front desk on Mondays."]);
        await File.WriteAllBytesAsync(Path.Combine(corpus.Path, "policy.pdf"), pdf, TestContext.Current.CancellationToken);

        var text = DocumentReader.Read("policy.pdf", pdf);
        Assert.True(text.IndexOf("Economy class is booked", StringComparison.Ordinal) is >= 0 and var first
            && text.IndexOf("Parking permits are issued by the front desk", StringComparison.Ordinal) > first, text);

        await using var harness = await KnowledgeBaseTests.CreateAsync(ScriptedChatClient.Echo());
        var index = harness.Services.GetRequiredService<KnowledgeIndex>();
        Assert.Equal(IngestOutcome.Added, Assert.Single(KnowledgeBaseTests.Ingest(index, corpus.Path)).Outcome);
        var hit = index.Search("who issues parking permits", 1)[0];
        Assert.Equal("policy.pdf", hit.Source);
        Assert.Contains("front desk", hit.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Pdf_InChinese_WithAdobesStandardFont_IsReadAndRetrieved()
    {
        using var corpus = new TempDirectory();
        var pdf = TestDocuments.ChinesePdf(
            ["假期制度", "员工每年享有十天带薪年假，", "未休完的年假可以顺延到次年三月底。"],
            ["病假需要提供二级以上医院的证明。"]);
        await File.WriteAllBytesAsync(Path.Combine(corpus.Path, "制度.pdf"), pdf, TestContext.Current.CancellationToken);

        var text = DocumentReader.Read("制度.pdf", pdf);
        Assert.Equal("假期制度\n员工每年享有十天带薪年假，\n未休完的年假可以顺延到次年三月底。\n病假需要提供二级以上医院的证明。\n", text.Replace("\r", "", StringComparison.Ordinal));

        await using var harness = await KnowledgeBaseTests.CreateAsync(ScriptedChatClient.Echo());
        var index = harness.Services.GetRequiredService<KnowledgeIndex>();
        Assert.Equal(IngestOutcome.Added, Assert.Single(KnowledgeBaseTests.Ingest(index, corpus.Path)).Outcome);
        var hit = index.Search("年假没休完可以顺延吗", 1)[0];
        Assert.Equal("制度.pdf", hit.Source);

        // Lines wrapped in the PDF are one sentence again in the passage: no space between Chinese characters.
        Assert.Contains("员工每年享有十天带薪年假，未休完的年假可以顺延到次年三月底。", hit.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DamagedPdfOrDocx_IsSkippedAsUnreadable_AndTheOtherFilesAreAdded()
    {
        using var corpus = new TempDirectory();
        var pdf = TestDocuments.Pdf(["Parking permits are issued by the front desk."]);
        await File.WriteAllBytesAsync(Path.Combine(corpus.Path, "a-broken.pdf"), pdf[..(pdf.Length / 3)], TestContext.Current.CancellationToken);
        await File.WriteAllTextAsync(Path.Combine(corpus.Path, "b-broken.docx"), "not a zip", TestContext.Current.CancellationToken);
        await File.WriteAllBytesAsync(Path.Combine(corpus.Path, "c-good.docx"), TestDocuments.Docx(Handbook), TestContext.Current.CancellationToken);
        await using var harness = await KnowledgeBaseTests.CreateAsync(ScriptedChatClient.Echo());
        var index = harness.Services.GetRequiredService<KnowledgeIndex>();

        var outcomes = KnowledgeBaseTests.Ingest(index, corpus.Path);

        Assert.Equal([IngestOutcome.Unreadable, IngestOutcome.Unreadable, IngestOutcome.Added], outcomes.Select(o => o.Outcome));
        Assert.Equal("c-good.docx", Assert.Single(index.List()).Source);
    }
}
