using System.CommandLine;
using System.Globalization;
using Microsoft.Extensions.Options;
using Spectre.Console;
using WeSeek.Configuration;
using WeSeek.Inference.Llama.Engine;
using WeSeek.Inference.Llama.Models;
using WeSeek.Storage;

namespace WeSeek.Host.Commands;

/// <summary><c>weseek model …</c>: pull, list, inspect, rm, quantize, synth, adapter, serve.</summary>
internal static class ModelCommand
{
    public static Command Create() => new("model", "Work with GGUF models: pull, list, inspect, rm, quantize, synth, adapter, serve.")
    {
        Pull(),
        List(),
        Inspect(),
        Remove(),
        Quantize(),
        Synth(),
        AdapterCommand.Create(),
        ModelServeCommand.Create(),
    };

    private static Command Pull()
    {
        var name = new Argument<string>("name") { Description = "deepseek-r1:<1.5b|7b|8b|14b|32b|70b>[:<q4_k_m|q8_0|f16>]" };
        var command = new Command("pull", "Download a DeepSeek-R1 distill (resumable, verified) into the models directory.") { name };
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction((result, cancellationToken) => RunAsync(result, async (config, console) =>
        {
            var entry = ModelCatalog.Load(config.Directory).Resolve(result.GetValue(name)!);
            using var http = config.CreateHttpClient();
            var puller = new ModelPuller(http, config.Models.Endpoint, config.Models.Source);
            string path = "";
            await console.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new DownloadedColumn(), new TransferSpeedColumn(), new RemainingTimeColumn())
                .StartAsync(async progress =>
                {
                    var task = progress.AddTask(entry.Name, maxValue: 1);
                    path = await puller.PullAsync(entry, config.Directory, new Progress<PullProgress>(p =>
                    {
                        task.Description = p.File;
                        task.MaxValue = p.Total ?? Math.Max(task.MaxValue, p.Bytes + 1);
                        task.Value = p.Bytes;
                    }), cancellationToken);
                    task.Value = task.MaxValue;
                });
            console.MarkupLine($"[green]Pulled[/] {Markup.Escape(entry.Name)} → {Markup.Escape(path)}");
            return 0;
        }));
        return command;
    }

    private static Command List()
    {
        var command = new Command("list", "List the models in the models directory.");
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction((result, cancellationToken) => RunAsync(result, (config, console) =>
        {
            var models = new ModelStore(config.Directory).List();
            if (models.Count == 0)
            {
                console.MarkupLine($"No models in {Markup.Escape(config.Directory)}. Pull one: [bold]weseek model pull deepseek-r1:1.5b[/]");
                return Task.FromResult(0);
            }

            var table = new Table().AddColumns("name", "size", "architecture", "parameters", "quantisation");
            foreach (var model in models)
            {
                table.AddRow(Markup.Escape(model.Name), Size(model.Size), Markup.Escape(model.Info?.Architecture ?? "not a GGUF"),
                    model.Info is { } info ? Parameters(info.ParameterCount) : "", Markup.Escape(model.Info?.Quantization ?? ""));
            }

            console.Write(table);
            return Task.FromResult(0);
        }));
        return command;
    }

    private static Command Inspect()
    {
        var file = new Argument<string>("file") { Description = "A GGUF file, or the name of a stored model." };
        var baseModel = new Option<string?>("--base") { Description = "For a LoRA adapter: the model to check it against (default: the model serve runs)." };
        var command = new Command("inspect", "Show a GGUF file's architecture, parameters, quantisation, context length, chat template and tensor types; for a LoRA adapter, its base, rank, alpha and targets.") { file, baseModel };
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction((result, cancellationToken) => RunAsync(result, (config, console) =>
        {
            var path = new ModelStore(config.Directory).Resolve(result.GetValue(file)!);
            var info = GgufReader.Read(path);
            if (info.Metadata.GetValueOrDefault("general.type") == "adapter")
            {
                return Task.FromResult(AdapterCommand.Inspect(path, config.BaseModel(result.GetValue(baseModel)), console));
            }

            var table = new Table().AddColumns("", "").HideHeaders();
            table.AddRow("file", Markup.Escape(path));
            table.AddRow("size", Size(info.FileSize));
            table.AddRow("GGUF version", info.Version.ToString(CultureInfo.InvariantCulture));
            table.AddRow("architecture", Markup.Escape(info.Architecture));
            table.AddRow("name", Markup.Escape(info.Metadata.GetValueOrDefault("general.name") ?? ""));
            table.AddRow("parameters", Parameters(info.ParameterCount));
            table.AddRow("quantisation", Markup.Escape(info.Quantization));
            table.AddRow("context length", info.ContextLength?.ToString(CultureInfo.InvariantCulture) ?? "unknown");
            table.AddRow("tensors", string.Join(", ", info.TensorTypes.Select(t => $"{t.Key} × {t.Value}")));
            table.AddRow("chat template", info.ChatTemplate is null ? "none" : Markup.Escape(info.ChatTemplate.Length > 160 ? info.ChatTemplate[..160] + "…" : info.ChatTemplate));
            console.Write(table);
            return Task.FromResult(0);
        }));
        return command;
    }

    private static Command Remove()
    {
        var name = new Argument<string>("name") { Description = "The stored model's name (see `weseek model list`)." };
        var command = new Command("rm", "Remove a model from the models directory.") { name };
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction((result, cancellationToken) => RunAsync(result, (config, console) =>
        {
            new ModelStore(config.Directory).Remove(result.GetValue(name)!);
            console.MarkupLine($"Removed {Markup.Escape(result.GetValue(name)!)}.");
            return Task.FromResult(0);
        }));
        return command;
    }

    private static Command Quantize()
    {
        var input = new Argument<string>("input") { Description = "A GGUF file, or the name of a stored model." };
        var to = new Option<string>("--to") { Description = "q4_k_m|q8_0|f16 (or 4|8|16).", Required = true };
        var output = new Option<string?>("--out") { Description = "Output file (default: beside the input, named by the quantisation)." };
        var verbose = VerboseOption();
        var command = new Command("quantize", "Quantise a GGUF model with llama.cpp's quantiser.") { input, to, output, verbose };
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction((result, cancellationToken) => RunAsync(result, async (config, console) =>
        {
            QuantiserOutput(result.GetValue(verbose));
            var source = new ModelStore(config.Directory).Resolve(result.GetValue(input)!);
            var quantization = ModelQuantizer.Parse(result.GetValue(to)!);
            var target = result.GetValue(output) ?? Path.Combine(Path.GetDirectoryName(source)!, $"{Path.GetFileNameWithoutExtension(source)}.{quantization.FileTag()}.gguf");
            await console.Status().StartAsync($"Quantising to {quantization.FileTag()}…", _ => Task.Run(() => ModelQuantizer.Quantize(source, target, quantization), cancellationToken));
            console.MarkupLine($"[green]Wrote[/] {Markup.Escape(target)} ({Size(new FileInfo(target).Length)})");
            return 0;
        }));
        return command;
    }

    private static Command Synth()
    {
        var shape = new Option<string>("--shape") { Description = "tiny|0.5b|r1-1.5b|r1-7b", DefaultValueFactory = _ => "tiny" };
        var output = new Option<string>("--out") { Description = "The GGUF file to write.", Required = true };
        var dtype = new Option<string>("--dtype") { Description = "f32|f16|q8_0|q4_k_m (default f32).", DefaultValueFactory = _ => "f32" };
        var vocab = new Option<string?>("--vocab") { Description = "A Hugging Face tokenizer.json (Qwen2 BPE); default a byte-level vocabulary." };
        var seed = new Option<int>("--seed") { Description = "Weights are a function of the seed (default 1).", DefaultValueFactory = _ => 1 };
        var verbose = VerboseOption();
        var lora = new Option<bool>("--lora") { Description = "Write a LoRA adapter (random, rank 4) for a model of that shape instead of a model." };
        var command = new Command("synth", "Write a Qwen2/DeepSeek-R1 GGUF with random weights at a real distill's shape (tests, demos, capacity planning).")
        {
            shape, output, dtype, vocab, seed, verbose, lora,
        };
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction((result, cancellationToken) => RunAsync(result, async (config, console) =>
        {
            QuantiserOutput(result.GetValue(verbose));
            var modelShape = ModelShape.Find(result.GetValue(shape)!);
            if (result.GetValue(lora))
            {
                ModelSynthesizer.WriteLoraAdapter(result.GetValue(output)!, modelShape, seed: result.GetValue(seed));
                console.MarkupLine($"[green]Wrote[/] {Markup.Escape(result.GetValue(output)!)}: a LoRA adapter for {Markup.Escape(modelShape.Name)}. [grey]Random weights: it changes answers and teaches nothing.[/]");
                return 0;
            }

            var type = result.GetValue(dtype)!.ToLowerInvariant();
            ModelQuantization? quantization = type == "f32" ? null : ModelQuantizer.Parse(type);
            var path = result.GetValue(output)!;
            long parameters = 0;
            await console.Progress().Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
                .StartAsync(async progress =>
                {
                    var task = progress.AddTask($"{modelShape.Name} {type}", maxValue: 1);
                    parameters = await Task.Run(() => ModelSynthesizer.Write(path, modelShape, quantization, result.GetValue(vocab), result.GetValue(seed), new Progress<double>(p => task.Value = p)), cancellationToken);
                    task.Value = 1;
                });
            console.MarkupLine($"[green]Wrote[/] {Markup.Escape(path)}: {Parameters(parameters)} parameters, {Size(new FileInfo(path).Length)}. [grey]Random weights: answers are noise.[/]");
            return 0;
        }));
        return command;
    }

    private static Option<bool> VerboseOption() =>
        new("--verbose") { Description = "Print llama.cpp's own output (a line per tensor) as well as the progress." };

    /// <summary>
    /// llama.cpp's quantiser logs a line per tensor (hundreds for a real shape) through its log callback, which
    /// writes to the terminal unless something else takes it: here only its errors reach stderr, beside the
    /// progress bar (its warnings are per tensor too: a type that falls back for a narrow row), and
    /// <c>--verbose</c> lets everything through. Set before the native library
    /// loads; if it is already loaded, its settings stay.
    /// </summary>
    private static void QuantiserOutput(bool verbose)
    {
        var factory = LoggerFactory.Create(logging => logging
            .AddSimpleConsole(console => console.SingleLine = true)
            .AddConsole(console => console.LogToStandardErrorThreshold = LogLevel.Trace)
            .SetMinimumLevel(verbose ? LogLevel.Trace : LogLevel.Error));
        try
        {
            LLama.Native.NativeLibraryConfig.All.WithLogCallback(factory.CreateLogger("llama.cpp"));
        }
        catch (InvalidOperationException)
        {
            // The native library is already loaded in this process.
        }
    }

    /// <summary>Runs a verb with configuration and readable errors (exit 1 for a failed operation, 2 for bad input).</summary>
    internal static async Task<int> RunAsync(ParseResult result, Func<ModelsConfiguration, IAnsiConsole, Task<int>> action)
    {
        var console = AnsiConsole.Console;
        try
        {
            await using var config = await ModelsConfiguration.FromAsync([.. result.UnmatchedTokens]);
            return await action(config, console);
        }
        catch (Exception ex) when (HostComposition.TryReportConfigurationError(ex))
        {
            return 2;
        }
        catch (Exception ex) when (ex is ArgumentException or FileNotFoundException or InvalidDataException)
        {
            console.MarkupLine("[red]" + Markup.Escape(ex.Message) + "[/]");
            return 2;
        }
        catch (Exception ex) when (ex is ModelPullException or InvalidOperationException or IOException)
        {
            console.MarkupLine("[red]" + Markup.Escape(ex.Message) + "[/]");
            return 1;
        }
    }

    internal static string Size(long bytes) => bytes switch
    {
        >= 1L << 30 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 30):F2} GiB"),
        >= 1L << 20 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 20):F1} MiB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:F1} KiB"),
    };

    private static string Parameters(long count) => count switch
    {
        >= 1_000_000_000 => string.Create(CultureInfo.InvariantCulture, $"{count / 1e9:F2}B"),
        >= 1_000_000 => string.Create(CultureInfo.InvariantCulture, $"{count / 1e6:F1}M"),
        _ => count.ToString("N0", CultureInfo.InvariantCulture),
    };

    /// <summary>The configuration the model verbs need: <c>Models</c> and <c>Storage</c> bound and validated as serve
    /// binds and validates them, <c>Model:Llama</c> bound; disposed with the verb's host.</summary>
    internal sealed class ModelsConfiguration(VerbHost host) : IAsyncDisposable
    {
        public ModelsOptions Models { get; } = host.Services.GetRequiredService<IOptions<ModelsOptions>>().Value;

        public string Directory => Models.Directory ?? Path.Combine(DataDirectory, "models");

        /// <summary><c>Storage:DataDirectory</c>.</summary>
        public string DataDirectory { get; } = host.Services.GetRequiredService<IOptions<StorageOptions>>().Value.DataDirectory;

        /// <summary><c>Model:Llama</c>, as serve reads it.</summary>
        public LlamaEngineOptions Llama { get; } = host.Services.GetRequiredService<IOptions<LlamaEngineOptions>>().Value;

        /// <summary>The model an adapter must fit: <paramref name="named"/>, else the one serve runs
        /// (<c>Model:Llama:ModelPath</c>, else the newest in the models directory); null when there is none yet.</summary>
        public string? BaseModel(string? named) =>
            named is not null ? new ModelStore(Directory).Resolve(named)
            : !string.IsNullOrEmpty(Llama.ModelPath) ? Llama.ModelPath
            : ModelStore.NewestStored(Directory);

        public static async Task<ModelsConfiguration> FromAsync(string[] args)
        {
            var builder = HostComposition.CreateBuilder(args);
            builder.Services.AddSection<ModelsOptions>(builder.Configuration, "Models");
            builder.Services.AddStorageSection(builder.Configuration);
            // Bound, not validated: these verbs are how a missing model file (ModelPath) or adapter gets fixed, and
            // a value Model:Llama cannot hold was refused with the rest of the configuration.
            builder.Services.AddOptions<LlamaEngineOptions>().Bind(builder.Configuration.GetSection("Model:Llama"));
            builder.Services.AddHttpClient("WeSeek.Models");
            return new ModelsConfiguration(await builder.BuildHostAsync());
        }

        public HttpClient CreateHttpClient()
        {
            var client = host.Services.GetRequiredService<IHttpClientFactory>().CreateClient("WeSeek.Models");
            client.Timeout = Timeout.InfiniteTimeSpan; // Multi-gigabyte downloads; the connection, not a clock, decides.
            return client;
        }

        public ValueTask DisposeAsync() => host.DisposeAsync();
    }
}
