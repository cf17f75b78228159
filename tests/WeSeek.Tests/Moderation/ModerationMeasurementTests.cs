using WeSeek.Moderation;

namespace WeSeek.Tests.Moderation;

/// <summary>
/// The word filter measured on <see cref="ModerationCorpus"/>: recall per evasion category and false positives per
/// category of ordinary text, printed (docs/moderation.md quotes them) and held to the issue's bar: recall at
/// least 95 %, false positives at most 1 %.
/// </summary>
public sealed class ModerationMeasurementTests
{
    internal static WordFilter DefaultFilter() => WordFilterTests.Filter(("banned", ModerationAction.Block, ModerationCorpus.Words));

    [Fact]
    public void LabelledSet_RecallAtLeast95Percent_FalsePositivesAtMost1Percent()
    {
        var filter = DefaultFilter();
        var missed = ModerationCorpus.Evasions.Where(e => !filter.Check(e.Text).Hits.Any(h => h.Word == e.Word)).ToList();
        var flagged = ModerationCorpus.Clean.Where(c => filter.Check(c.Text).Action is not null).ToList();
        var recall = 1 - ((double)missed.Count / ModerationCorpus.Evasions.Length);
        var falsePositives = (double)flagged.Count / ModerationCorpus.Clean.Length;

        var output = TestContext.Current.TestOutputHelper;
        output?.WriteLine($"recall {recall:P1} ({ModerationCorpus.Evasions.Length - missed.Count}/{ModerationCorpus.Evasions.Length}); " +
            $"false positives {falsePositives:P1} ({flagged.Count}/{ModerationCorpus.Clean.Length})");
        foreach (var category in ModerationCorpus.Evasions.GroupBy(e => e.Category))
        {
            output?.WriteLine($"| {category.Key} | {category.Count(e => !missed.Contains(e))}/{category.Count()} |");
        }

        foreach (var category in ModerationCorpus.Clean.GroupBy(c => c.Category))
        {
            output?.WriteLine($"| {category.Key} | {category.Count(c => flagged.Contains(c))}/{category.Count()} |");
        }

        output?.WriteLine("missed: " + string.Join(", ", missed.Select(m => $"{m.Text} ({m.Category})")));
        output?.WriteLine("flagged: " + string.Join(", ", flagged.Select(f => $"{f.Text} ({f.Category})")));

        Assert.True(recall >= 0.95, $"recall {recall:P1}; missed: {string.Join(", ", missed.Select(m => $"{m.Text} ({m.Category})"))}");
        Assert.True(falsePositives <= 0.01, $"false positives {falsePositives:P1}: {string.Join(", ", flagged.Select(f => f.Text))}");
    }

    /// <summary>
    /// Homophones earn their place only where they do more good than harm: measured at each minimum word length, the
    /// default (3) must catch more than matching no homophones at all and flag no more ordinary text; matching them
    /// for two-character words too (2) must flag more, which is why it is not the default.
    /// </summary>
    [Fact]
    public void Homophones_DefaultMinimumLength_CatchesMoreWithoutFlaggingMore()
    {
        var results = new Dictionary<int, (int Caught, int Flagged)>();
        foreach (var minimum in new[] { 0, 2, 3, 4 })
        {
            var options = new ModerationOptions();
            var list = new WordListOptions { Action = ModerationAction.Block, HomophoneMinLength = minimum };
            foreach (var word in ModerationCorpus.Words)
            {
                list.Words.Add(word);
            }

            options.Lists["banned"] = list;
            var filter = new WordFilter(Microsoft.Extensions.Options.Options.Create(options));
            var caught = ModerationCorpus.Evasions.Count(e => filter.Check(e.Text).Hits.Any(h => h.Word == e.Word));
            var flagged = ModerationCorpus.Clean.Where(c => filter.Check(c.Text).Action is not null).Select(c => c.Text).ToList();
            results[minimum] = (caught, flagged.Count);
            TestContext.Current.TestOutputHelper?.WriteLine(
                $"| HomophoneMinLength {minimum} | {caught}/{ModerationCorpus.Evasions.Length} | {flagged.Count}/{ModerationCorpus.Clean.Length} ({string.Join(", ", flagged)}) |");
        }

        Assert.True(results[3].Caught > results[0].Caught);
        Assert.True(results[3].Flagged <= results[0].Flagged);
        Assert.True(results[2].Flagged > results[3].Flagged);
    }
}
