using System.CommandLine;
using System.Globalization;
using Spectre.Console;
using WeSeek.Knowledge;
using WeSeek.Storage;

namespace WeSeek.Host.Commands;

/// <summary><c>weseek kb add|list|rm|search</c>: the knowledge base under the data directory.</summary>
internal static class KnowledgeCommand
{
    public static Command Create() => new("kb", "Work with the knowledge base (plugin kb): documents whose passages answers cite.") { Add(), List(), Remove(), Search() };

    private static Command Add()
    {
        var paths = new Argument<string[]>("paths") { Description = "Files (.txt, .md, .html, .pdf, .docx) or folders (searched recursively).", Arity = ArgumentArity.OneOrMore };
        var command = new Command("add", "Add documents; a document added again replaces its passages when it changed.") { paths };
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction((result, cancellationToken) => RunAsync(result, paths, (index, files, console) =>
        {
            var documents = KnowledgeFiles.Collect(files);
            if (documents.Count == 0)
            {
                console.MarkupLine("[yellow]No supported documents found.[/]");
                return Task.FromResult(1);
            }

            var outcomes = new List<(string Source, IngestOutcome Outcome, int Passages)>();
            console.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                .Start(progress =>
                {
                    var task = progress.AddTask("Indexing", maxValue: documents.Count);
                    using var writer = index.OpenWriter();
                    foreach (var document in documents)
                    {
                        cancellationToken.ThrowIfCancellationRequested();
                        task.Description = document.Source;
                        var (outcome, passages) = writer.Add(document.Source, document.Path, File.ReadAllBytes(document.Path));
                        outcomes.Add((document.Source, outcome, passages));
                        task.Increment(1);
                    }

                    task.Description = "Committing";
                    writer.Commit();
                    task.Description = "Done";
                });

            var table = new Table().AddColumns("source", "result", "passages");
            foreach (var (source, outcome, passages) in outcomes)
            {
                table.AddRow(Markup.Escape(source), outcome.ToString().ToLowerInvariant(), passages.ToString(CultureInfo.InvariantCulture));
            }

            console.Write(table);

            // Exit 1 when a file could not be read, so a script notices; the readable ones are in the index.
            return Task.FromResult(outcomes.Exists(o => o.Outcome == IngestOutcome.Unreadable) ? 1 : 0);
        }));
        return command;
    }

    private static Command List()
    {
        var command = new Command("list", "List the documents in the knowledge base.");
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction((result, cancellationToken) => RunAsync(result, null, (index, _, console) =>
        {
            var sources = index.List();
            if (sources.Count == 0)
            {
                console.MarkupLine("The knowledge base is empty. Add documents: [bold]weseek kb add <files or folder>[/]");
                return Task.FromResult(0);
            }

            var table = new Table().AddColumns("source", "passages", "added (UTC)", "sha256");
            foreach (var source in sources)
            {
                table.AddRow(Markup.Escape(source.Source), source.Passages.ToString(CultureInfo.InvariantCulture),
                    source.AddedAt.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture), source.Hash[..12]);
            }

            console.Write(table);
            return Task.FromResult(0);
        }));
        return command;
    }

    private static Command Remove()
    {
        var sources = new Argument<string[]>("sources") { Description = "Source names as `weseek kb list` shows them.", Arity = ArgumentArity.OneOrMore };
        var command = new Command("rm", "Remove documents from the knowledge base.") { sources };
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction((result, cancellationToken) => RunAsync(result, sources, (index, names, console) =>
        {
            var missing = 0;
            using var writer = index.OpenWriter();
            foreach (var name in names)
            {
                if (writer.Remove(name))
                {
                    console.MarkupLine($"[green]Removed[/] {Markup.Escape(name)}");
                }
                else
                {
                    console.MarkupLine($"[red]No source '{Markup.Escape(name)}'[/] (see weseek kb list)");
                    missing++;
                }
            }

            writer.Commit();
            return Task.FromResult(missing == 0 ? 0 : 1);
        }));
        return command;
    }

    private static Command Search()
    {
        var question = new Argument<string[]>("question") { Description = "The question, as a user would ask it.", Arity = ArgumentArity.OneOrMore };
        var command = new Command("search", "Show the passages a question retrieves, with their BM25 scores (to tune Knowledge:MinScore).") { question };
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction((result, cancellationToken) => RunAsync(result, question, (index, words, console) =>
        {
            var hits = index.Search(string.Join(' ', words), 5);
            var table = new Table().AddColumns("score", "source", "passage");
            foreach (var hit in hits)
            {
                table.AddRow(hit.Score.ToString("F2", CultureInfo.InvariantCulture), Markup.Escape(hit.Source), Markup.Escape(hit.Text.Length > 80 ? hit.Text[..80] + "…" : hit.Text));
            }

            console.Write(table);
            return Task.FromResult(hits.Count == 0 ? 1 : 0);
        }));
        return command;
    }

    /// <summary>
    /// Builds the index from the same configuration as <c>serve</c>; configuration tokens (<c>--Key=value</c>)
    /// may stand among the verb's own values.
    /// </summary>
    private static async Task<int> RunAsync(ParseResult result, Argument<string[]>? values, Func<KnowledgeIndex, string[], IAnsiConsole, Task<int>> action)
    {
        var console = AnsiConsole.Console;
        var given = values is null ? [] : result.GetValue(values) ?? [];
        string[] args = [.. result.UnmatchedTokens, .. given.Where(v => v.StartsWith("--", StringComparison.Ordinal))];
        try
        {
            var builder = HostComposition.CreateBuilder(args);
            builder.Services.AddStorageSection(builder.Configuration);
            builder.Services.AddKnowledgeIndex(builder.Configuration);
            await using var host = await builder.BuildHostAsync();
            return await action(host.Services.GetRequiredService<KnowledgeIndex>(), [.. given.Where(v => !v.StartsWith("--", StringComparison.Ordinal))], console);
        }
        catch (Exception ex) when (HostComposition.TryReportConfigurationError(ex))
        {
            return 2;
        }
        catch (Exception ex) when (ex is FileNotFoundException or NotSupportedException or IOException or Lucene.Net.Store.LockObtainFailedException)
        {
            console.MarkupLine("[red]" + Markup.Escape(ex.Message) + "[/]");
            return 2;
        }
    }
}
