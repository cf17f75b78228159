using System.CommandLine;
using System.Globalization;
using Spectre.Console;
using WeSeek.Inference.Llama.Engine;
using WeSeek.Inference.Llama.Models;

namespace WeSeek.Host.Commands;

/// <summary>
/// <c>weseek model adapter add|list|rm</c>: the LoRA adapters the embedded engine applies. They are kept in the data
/// directory's <c>adapters.json</c>, which a running <c>serve</c> watches and applies without a restart (its log
/// says when, and how long generation paused), and which the next start reads. <c>Model:Llama:Adapters</c> in the
/// configuration apply first and are listed here, but changed only where they are configured.
/// </summary>
internal static class AdapterCommand
{
    public static Command Create() => new("adapter", "LoRA adapters for the embedded engine: add, list, rm (a running serve applies changes without a restart).")
    {
        Add(),
        List(),
        Remove(),
    };

    private static Command Add()
    {
        var file = new Argument<string>("file") { Description = "A LoRA adapter GGUF (llama.cpp's convert_lora_to_gguf.py writes them; docs/adaptation.md)." };
        var scale = new Option<float>("--scale") { Description = "How strongly it applies: 1 as trained (default), 0.5 half.", DefaultValueFactory = _ => 1f };
        var baseModel = new Option<string?>("--base") { Description = "The model to check it against (default: the model serve runs)." };
        var command = new Command("add", "Apply a LoRA adapter (checked against the base model first).") { file, scale, baseModel };
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction((result, cancellationToken) => ModelCommand.RunAsync(result, (config, console) =>
        {
            var options = new LoraAdapterOptions { Path = Path.GetFullPath(result.GetValue(file)!), Scale = result.GetValue(scale) };
            if (LoraAdapterOptions.Problem(options) is { } problem)
            {
                throw new ArgumentException($"{Path.GetFileName(options.Path)}: {problem}.");
            }

            var adapter = LoraAdapterFile.Read(options.Path);
            if (config.BaseModel(result.GetValue(baseModel)) is { } model)
            {
                if (adapter.ProblemWith(GgufReader.Read(model), Path.GetFileName(model)) is { } mismatch)
                {
                    throw new ArgumentException(mismatch + " Not added.");
                }
            }
            else
            {
                console.MarkupLine("[yellow]No base model found to check it against (pull or configure one); it is checked when the engine loads it.[/]");
            }

            var manifest = new AdapterManifest(config.DataDirectory);
            var adapters = manifest.Read().Where(a => !SamePath(a.Path, options.Path)).Append(options).ToList();
            manifest.Write(adapters);
            console.MarkupLine($"[green]Added[/] {Markup.Escape(Path.GetFileName(options.Path))} (rank {adapter.Rank}, alpha {adapter.Alpha.ToString(CultureInfo.InvariantCulture)}, scale {options.Scale.ToString(CultureInfo.InvariantCulture)}). " +
                "A running [bold]weseek serve[/] applies it now, without a restart (its log says so); the next start applies it too.");
            return Task.FromResult(0);
        }));
        return command;
    }

    private static Command List()
    {
        var command = new Command("list", "List the adapters the engine applies, in order.");
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction((result, cancellationToken) => ModelCommand.RunAsync(result, (config, console) =>
        {
            var configured = config.Llama.Adapters.Select(a => (Adapter: a, Source: "Model:Llama:Adapters"));
            var managed = new AdapterManifest(config.DataDirectory).Read().Select(a => (Adapter: a, Source: AdapterManifest.FileName));
            var all = configured.Concat(managed).ToList();
            if (all.Count == 0)
            {
                console.MarkupLine("No adapters: the engine runs the base model. Add one: [bold]weseek model adapter add file.gguf[/]");
                return Task.FromResult(0);
            }

            var table = new Table().AddColumns("adapter", "scale", "rank", "alpha", "targets", "from");
            foreach (var (adapter, source) in all)
            {
                string rank = "", alpha = "", targets;
                try
                {
                    var file = LoraAdapterFile.Read(adapter.Path);
                    (rank, alpha, targets) = (file.Rank.ToString(CultureInfo.InvariantCulture), file.Alpha.ToString(CultureInfo.InvariantCulture), Targets(file));
                }
                catch (Exception ex) when (ex is InvalidDataException or IOException)
                {
                    targets = "[red]" + Markup.Escape(File.Exists(adapter.Path) ? ex.Message : "the file is gone") + "[/]";
                }

                table.AddRow(Markup.Escape(Path.GetFileName(adapter.Path)), adapter.Scale.ToString(CultureInfo.InvariantCulture), rank, alpha, targets, source);
            }

            console.Write(table);
            foreach (var (adapter, _) in all)
            {
                // Whole, outside the table: a table wraps long paths at the terminal's width.
                Console.Out.WriteLine($"{Path.GetFileName(adapter.Path)}: {adapter.Path}");
            }

            return Task.FromResult(0);
        }));
        return command;
    }

    private static Command Remove()
    {
        var file = new Argument<string>("file") { Description = "The adapter's path or file name (see `weseek model adapter list`)." };
        var command = new Command("rm", "Stop applying an adapter (the file stays where it is).") { file };
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction((result, cancellationToken) => ModelCommand.RunAsync(result, (config, console) =>
        {
            var name = result.GetValue(file)!;
            bool Matches(LoraAdapterOptions a) => SamePath(a.Path, Path.GetFullPath(name)) || string.Equals(Path.GetFileName(a.Path), name, StringComparison.Ordinal);
            var manifest = new AdapterManifest(config.DataDirectory);
            var adapters = manifest.Read().ToList();
            if (adapters.RemoveAll(Matches) == 0)
            {
                throw new ArgumentException(config.Llama.Adapters.Exists(Matches)
                    ? $"{name} is set in the configuration (Model:Llama:Adapters); remove it there."
                    : $"No adapter '{name}' is applied; `weseek model adapter list` shows those that are.");
            }

            manifest.Write(adapters);
            console.MarkupLine($"[green]Removed[/] {Markup.Escape(name)}. A running [bold]weseek serve[/] stops applying it now.");
            return Task.FromResult(0);
        }));
        return command;
    }

    /// <summary><c>weseek model inspect</c> for an adapter: its base, rank, alpha and targets, and whether it fits
    /// <paramref name="baseModel"/>; exit 2, with one line saying why, when it does not.</summary>
    public static int Inspect(string path, string? baseModel, IAnsiConsole console)
    {
        var adapter = LoraAdapterFile.Read(path);
        var table = new Table().AddColumns("", "").HideHeaders();
        table.AddRow("file", Markup.Escape(path));
        table.AddRow("size", ModelCommand.Size(adapter.FileSize));
        table.AddRow("type", "LoRA adapter");
        table.AddRow("base architecture", Markup.Escape(adapter.Architecture));
        table.AddRow("rank", adapter.Rank.ToString(CultureInfo.InvariantCulture));
        table.AddRow("alpha", adapter.Alpha.ToString(CultureInfo.InvariantCulture));
        table.AddRow("targets", Markup.Escape(Targets(adapter)));
        string? problem = null;
        if (baseModel is not null)
        {
            problem = adapter.ProblemWith(GgufReader.Read(baseModel), Path.GetFileName(baseModel));
            table.AddRow("fits", problem is null ? $"[green]{Markup.Escape(Path.GetFileName(baseModel))}[/]" : "[red]no[/]");
        }

        console.Write(table);
        if (problem is not null)
        {
            console.MarkupLine("[red]" + Markup.Escape(problem) + "[/]");
            return 2;
        }

        return 0;
    }

    /// <summary>"attn_q, attn_v, ffn_down in 28 blocks": the weights it adapts, grouped by kind.</summary>
    private static string Targets(LoraAdapterFile adapter)
    {
        var blocks = adapter.Targets.Where(t => t.StartsWith("blk.", StringComparison.Ordinal)).Select(t => t.Split('.')).ToList();
        var kinds = blocks.Select(parts => parts.Length > 2 ? parts[2] : "").Distinct(StringComparer.Ordinal);
        var others = adapter.Targets.Where(t => !t.StartsWith("blk.", StringComparison.Ordinal));
        var described = blocks.Count == 0 ? "" : $"{string.Join(", ", kinds)} in {blocks.Select(p => p[1]).Distinct(StringComparer.Ordinal).Count()} blocks";
        return string.Join("; ", new[] { described }.Concat(others).Where(s => s.Length > 0));
    }

    private static bool SamePath(string a, string b) => string.Equals(Path.GetFullPath(a), Path.GetFullPath(b), StringComparison.Ordinal);
}
