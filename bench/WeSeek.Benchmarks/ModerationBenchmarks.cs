using System.Text;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Microsoft.Extensions.Options;
using WeSeek.Moderation;

namespace WeSeek.Benchmarks;

/// <summary>
/// The word filter on the load: a 2,000-character message (Chinese with some Latin, pinyin and full-width
/// letters, the mix a chat carries) normalised and matched against 10,000 listed words, every one also matched by
/// pinyin. The bar is 1 ms a message.
/// </summary>
/// <remarks>
///   dotnet run -c Release --project bench/WeSeek.Benchmarks -- --suite moderation [--job short|default]
/// In process (no separate benchmark project is generated and built): the question is one figure, and the machines
/// this runs on are small.
/// </remarks>
[MemoryDiagnoser]
public class ModerationBenchmarks
{
    private const string Common = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处理府研";

    private WordFilter _filter = null!;
    private string _message = null!;

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(14);
        var list = new WordListOptions { Action = ModerationAction.Block };
        while (list.Words.Count < 9_900)
        {
            var word = new string([.. Enumerable.Range(0, random.Next(2, 5)).Select(_ => Common[random.Next(Common.Length)])]);
            list.Words.Add(word);
        }

        for (var i = 0; i < 100; i++)
        {
            list.Words.Add("spamword" + i.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        var options = new ModerationOptions();
        options.Lists["banned"] = list;
        _filter = new WordFilter(Options.Create(options));

        var text = new StringBuilder();
        string[] latin = [" hello world ", " ni hao ma ", "ｄｕｂｏ", " OK ", "，", "。", " basic aircraft "];
        while (text.Length < 2_000)
        {
            text.Append(Common[random.Next(Common.Length)]);
            if (random.Next(20) == 0)
            {
                text.Append(latin[random.Next(latin.Length)]);
            }
        }

        _message = text.ToString(0, 2_000);
    }

    [Benchmark]
    public ModerationAction? Check2000CharactersAgainst10000Words() => _filter.Check(_message).Action;

    /// <summary>The share of normalisation alone (letters folded, separators skipped, traditional to simplified).</summary>
    [Benchmark]
    public int Normalize2000Characters() => TextNormalizer.Normalize(_message).Text.Length;

    /// <summary>The share of normalisation and spelling in pinyin, without matching.</summary>
    [Benchmark]
    public int SpellInPinyin2000Characters() => TextNormalizer.Pinyin(_message).Text.Length;

    public static int Run(Func<string, string, string> arg)
    {
        // Short: 3 warm-ups and 15 measured iterations, enough for a median and a minimum that mean something on a
        // shared machine, where the mean is whatever the neighbours were doing.
        var job = arg("--job", "short") == "short" ? Job.ShortRun.WithIterationCount(15) : Job.Default;
        var config = DefaultConfig.Instance.AddJob(job.WithToolchain(InProcessEmitToolchain.Instance))
            .AddColumn(StatisticColumn.Median, StatisticColumn.Min);
        var summary = BenchmarkRunner.Run<ModerationBenchmarks>(config);
        return summary.HasCriticalValidationErrors ? 1 : 0;
    }
}
