using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using WeSeek.Knowledge;
using WeSeek.Storage;
using WeSeek.TestKit;

namespace WeSeek.Benchmarks;

/// <summary>
/// What a search costs an instance when another instance has just added a document to the shared knowledge base:
/// two <see cref="KnowledgeIndex"/> objects on one directory (two instances on one volume), a writer that adds one
/// document and commits, then a search by the reader, which reopens its Lucene reader for the new segment
/// (<c>DirectoryReader.OpenIfChanged</c>); against the same search when nothing changed. The index holds
/// <c>--documents</c> documents of <c>--passages</c> passages first.
/// </summary>
internal static class KnowledgeReopenBenchmark
{
    public static int Run(Func<string, string, string> arg)
    {
        var documents = int.Parse(arg("--documents", "200"), CultureInfo.InvariantCulture);
        var passages = int.Parse(arg("--passages", "10"), CultureInfo.InvariantCulture);
        var rounds = int.Parse(arg("--rounds", "50"), CultureInfo.InvariantCulture);
        using var data = new TempDirectory();
        var storage = Options.Create(new StorageOptions { DataDirectory = data.Path });
        var options = Options.Create(new KnowledgeOptions());
        using var writerInstance = new KnowledgeIndex(options, storage, TimeProvider.System, NullLogger<KnowledgeIndex>.Instance);
        using var readerInstance = new KnowledgeIndex(options, storage, TimeProvider.System, NullLogger<KnowledgeIndex>.Instance);
        var next = 0;
        byte[] Document() =>
            Encoding.UTF8.GetBytes(string.Join("\n\n", Enumerable.Range(0, passages).Select(p =>
                $"# 第{next}章 第{p}节\n\n员工出差报销需在返回后十五个工作日内提交，附上发票与行程单。编号 {next}-{p}：年假按工龄计算，满一年五天，满十年十天。")));
        using (var writer = writerInstance.OpenWriter())
        {
            for (; next < documents; next++)
            {
                writer.Add($"doc{next}.md", $"doc{next}.md", Document());
            }

            writer.Commit();
        }

        const string Question = "出差报销多久内提交";
        readerInstance.Search(Question, 5);
        var unchanged = new List<double>();
        var reopened = new List<double>();
        var writes = new List<double>();
        for (var round = 0; round < rounds; round++)
        {
            var started = Stopwatch.GetTimestamp();
            readerInstance.Search(Question, 5);
            unchanged.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);

            started = Stopwatch.GetTimestamp();
            using (var writer = writerInstance.OpenWriter())
            {
                writer.Add($"doc{next}.md", $"doc{next}.md", Document());
                next++;
                writer.Commit();
            }

            writes.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            started = Stopwatch.GetTimestamp();
            var hits = readerInstance.Search($"编号 {next - 1}-0", 5);
            reopened.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            if (hits.Count == 0)
            {
                Console.Error.WriteLine("The reader did not see the document the other instance added.");
                return 1;
            }
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{documents} documents × {passages} passages, then {rounds} rounds of: search (unchanged), the other instance adds a document and commits, search (reopens)"));
        Console.WriteLine();
        Console.WriteLine("| operation | p50 ms | p90 ms | max ms |");
        Console.WriteLine("|---|---|---|---|");
        foreach (var (name, samples) in new[] { ("search, index unchanged", unchanged), ("search after another instance's commit (reopen)", reopened), ("the other instance: add one document and commit", writes) })
        {
            samples.Sort();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {name} | {samples[samples.Count / 2]:F2} | {samples[(int)(samples.Count * 0.9)]:F2} | {samples[^1]:F2} |"));
        }

        return 0;
    }
}
