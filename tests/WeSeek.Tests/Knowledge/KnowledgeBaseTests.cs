using System.Globalization;
using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using WeSeek.Knowledge;
using WeSeek.Plugins;
using WeSeek.TestKit;
using WeSeek.Tests.Inbox;

namespace WeSeek.Tests.Knowledge;

public sealed class KnowledgeBaseTests
{
    internal static Task<CoreHarness> CreateAsync(ScriptedChatClient client, string? dataDirectory = null) =>
        CoreHarness.CreateAsync(client, dataDirectory: dataDirectory, configure: services =>
        {
            services.AddKnowledgeIndex(new ConfigurationBuilder().Build());
            services.AddSingleton<IWeSeekPlugin, KnowledgeBasePlugin>();
        });

    private static void WriteCorpus(string folder)
    {
        foreach (var (name, text) in HandbookCorpus.Documents)
        {
            File.WriteAllText(Path.Combine(folder, name), text, Encoding.UTF8);
        }
    }

    internal static List<(string Source, IngestOutcome Outcome, int Passages)> Ingest(KnowledgeIndex index, params string[] paths)
    {
        var outcomes = new List<(string, IngestOutcome, int)>();
        using var writer = index.OpenWriter();
        foreach (var file in KnowledgeFiles.Collect(paths))
        {
            var (outcome, passages) = writer.Add(file.Source, file.Path, File.ReadAllBytes(file.Path));
            outcomes.Add((file.Source, outcome, passages));
        }

        writer.Commit();
        return outcomes;
    }

    [Fact]
    public async Task ChineseRetrieval_OnTheLabelledHandbook_FindsTheAnsweringDocumentInTheTopFive()
    {
        using var corpus = new TempDirectory();
        WriteCorpus(corpus.Path);
        await using var harness = await CreateAsync(ScriptedChatClient.Echo());
        var index = harness.Services.GetRequiredService<KnowledgeIndex>();
        var ingested = Ingest(index, corpus.Path);
        Assert.Equal(HandbookCorpus.Documents.Count, ingested.Count);
        Assert.All(ingested, i => Assert.Equal(IngestOutcome.Added, i.Outcome));

        var atOne = 0;
        var atFive = 0;
        var cited = 0;
        var citedSources = 0;
        var report = new StringBuilder();
        foreach (var (question, source) in HandbookCorpus.Questions)
        {
            var hits = index.Search(question, 5);
            var sources = hits.Select(h => h.Source).ToList();
            atOne += sources.FirstOrDefault() == source ? 1 : 0;
            atFive += sources.Contains(source) ? 1 : 0;
            var selected = KnowledgeBasePlugin.Select(hits, new KnowledgeOptions().RelativeScore).Select(h => h.Source).Distinct().ToList();
            cited += selected.Contains(source) ? 1 : 0;
            citedSources += selected.Count;
            report.AppendLine(CultureInfo.InvariantCulture, $"{(sources.Contains(source) ? "hit " : "MISS")} {question} → {string.Join(", ", hits.Select(h => string.Create(CultureInfo.InvariantCulture, $"{h.Source} {h.Score:F2}")))}");
        }

        var recallAtFive = (double)atFive / HandbookCorpus.Questions.Count;
        var recallAtOne = (double)atOne / HandbookCorpus.Questions.Count;
        TestContext.Current.TestOutputHelper?.WriteLine(report.ToString());
        TestContext.Current.TestOutputHelper?.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"recall@5 = {recallAtFive:F3} ({atFive}/{HandbookCorpus.Questions.Count}), recall@1 = {recallAtOne:F3} ({atOne}/{HandbookCorpus.Questions.Count}), {index.List().Sum(s => s.Passages)} passages in {HandbookCorpus.Documents.Count} documents; "
            + $"after Knowledge:RelativeScore the answering document is cited for {cited}/{HandbookCorpus.Questions.Count}, with {(double)citedSources / HandbookCorpus.Questions.Count:F2} sources cited per answer"));
        Assert.True(recallAtFive >= 0.8, $"recall@5 {recallAtFive:F3} is below 0.8:\n{report}");
        Assert.True(cited >= 0.8 * HandbookCorpus.Questions.Count, $"the answering document is cited for only {cited} questions:\n{report}");
    }

    [Fact]
    public async Task Answer_UsesThePassages_AndEndsWithItsSources()
    {
        using var corpus = new TempDirectory();
        WriteCorpus(corpus.Path);
        var client = new ScriptedChatClient(_ => ["<think>查资料</think>", "未休完的年假可以顺延到次年三月三十一日。"]);
        await using var harness = await CreateAsync(client);
        Ingest(harness.Services.GetRequiredService<KnowledgeIndex>(), corpus.Path);

        await harness.ReceiveAsync("m1", "alice", "年假没休完可以留到明年吗？");
        await harness.RunTurnsAsync();

        var prompt = Assert.Single(client.Calls)[^1].Text;
        Assert.Contains("参考资料", prompt, StringComparison.Ordinal);
        Assert.Contains("（假期.md）假期制度 / 年假：", prompt, StringComparison.Ordinal);
        var reply = string.Join('\n', await DurableInboxTests.OutboxTextsAsync(harness));
        var lines = reply.Split('\n');
        var citations = lines.SkipWhile(l => !l.StartsWith("来源：", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(citations);
        Assert.All(citations, l => Assert.StartsWith("来源：", l, StringComparison.Ordinal));
        Assert.Equal("来源：假期.md", citations[0]);
        Assert.Equal(citations.Count, citations.Distinct().Count());
    }

    [Fact]
    public async Task EmptyKnowledgeBase_ContributesNothing()
    {
        var client = ScriptedChatClient.Echo();
        await using var harness = await CreateAsync(client);
        await harness.ReceiveAsync("m1", "alice", "年假有几天？");
        await harness.RunTurnsAsync();

        Assert.DoesNotContain("参考资料", Assert.Single(client.Calls)[^1].Text, StringComparison.Ordinal);
        Assert.DoesNotContain("来源：", string.Join('\n', await DurableInboxTests.OutboxTextsAsync(harness)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddingAgain_SkipsAnUnchangedFile_AndReplacesAChangedOnesPassages()
    {
        using var corpus = new TempDirectory();
        var file = Path.Combine(corpus.Path, "规定.md");
        File.WriteAllText(file, "# 规定\n旧规定：下午茶在三点供应。");
        await using var harness = await CreateAsync(ScriptedChatClient.Echo());
        var index = harness.Services.GetRequiredService<KnowledgeIndex>();

        Assert.Equal(IngestOutcome.Added, Assert.Single(Ingest(index, file)).Outcome);
        Assert.Equal(IngestOutcome.Unchanged, Assert.Single(Ingest(index, file)).Outcome);
        File.WriteAllText(file, "# 规定\n新规定：咖啡在四点供应。");
        Assert.Equal(IngestOutcome.Replaced, Assert.Single(Ingest(index, file)).Outcome);

        Assert.Empty(index.Search("下午茶", 5));
        var hit = Assert.Single(index.Search("咖啡", 5));
        Assert.Equal("规定.md", hit.Source);
        Assert.Equal(1, Assert.Single(index.List()).Passages);
    }

    [Fact]
    public async Task Remove_DropsASourcesPassages_AndTheIndexSurvivesARestart()
    {
        using var data = new TempDirectory();
        using var corpus = new TempDirectory();
        WriteCorpus(corpus.Path);
        await using (var first = await CreateAsync(ScriptedChatClient.Echo(), data.Path))
        {
            var index = first.Services.GetRequiredService<KnowledgeIndex>();
            Ingest(index, corpus.Path);
            using var writer = index.OpenWriter();
            Assert.True(writer.Remove("食堂.html"));
            Assert.False(writer.Remove("没有.txt"));
            writer.Commit();
        }

        await using var second = await CreateAsync(ScriptedChatClient.Echo(), data.Path);
        var reopened = second.Services.GetRequiredService<KnowledgeIndex>();
        Assert.Equal(HandbookCorpus.Documents.Count - 1, reopened.List().Count);
        Assert.DoesNotContain(reopened.Search("食堂午饭几点开始", 5), h => h.Source == "食堂.html");
        Assert.StartsWith(data.Path, reopened.Path, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SearchSeesWhatAnotherWriterCommitted()
    {
        using var data = new TempDirectory();
        using var corpus = new TempDirectory();
        WriteCorpus(corpus.Path);
        await using var serving = await CreateAsync(ScriptedChatClient.Echo(), data.Path);
        var reader = serving.Services.GetRequiredService<KnowledgeIndex>();
        Assert.Empty(reader.Search("公积金缴存比例", 5));

        // Another process (weseek kb add) writes the same directory.
        await using (var cli = await CreateAsync(ScriptedChatClient.Echo(), data.Path))
        {
            Ingest(cli.Services.GetRequiredService<KnowledgeIndex>(), Path.Combine(corpus.Path, "社保.txt"));
        }

        Assert.Equal("社保.txt", reader.Search("公积金缴存比例", 5)[0].Source);
    }

    [Fact]
    public void Collect_NamesFilesByTheirPathUnderTheFolder_AndRefusesUnknownFormats()
    {
        using var corpus = new TempDirectory();
        Directory.CreateDirectory(Path.Combine(corpus.Path, "hr"));
        File.WriteAllText(Path.Combine(corpus.Path, "hr", "a.md"), "甲");
        File.WriteAllText(Path.Combine(corpus.Path, "b.txt"), "乙");
        File.WriteAllText(Path.Combine(corpus.Path, "c.doc"), "Word 97");

        Assert.Equal(["b.txt", "hr/a.md"], KnowledgeFiles.Collect([corpus.Path]).Select(f => f.Source));
        Assert.Throws<NotSupportedException>(() => KnowledgeFiles.Collect([Path.Combine(corpus.Path, "c.doc")]));
        Assert.Throws<FileNotFoundException>(() => KnowledgeFiles.Collect([Path.Combine(corpus.Path, "none")]));
    }
}
