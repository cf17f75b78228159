using System.CommandLine;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using WeSeek.Health;
using WeSeek.Configuration;
using WeSeek.Host.Access;
using WeSeek.Inference.Llama.Models;

namespace WeSeek.Host.Commands;

/// <summary>
/// <c>weseek model serve</c>: the embedded engine as an OpenAI-compatible server (the seed's model server:
/// its <c>--model_path</c>, <c>--quant_mode</c> and <c>--max_batch_size</c> are <c>--model</c>,
/// <c>--quant</c> and <c>--max-batch-size</c>). A bot elsewhere uses it with <c>Model:Provider=remote</c>.
/// </summary>
internal static class ModelServeCommand
{
    /// <summary>llama-server's default address, which is also the remote engine's default.</summary>
    public const string DefaultUrls = "http://127.0.0.1:8080";

    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "The GGUF file to serve.", Required = true };
        var urls = new Option<string?>("--urls") { Description = $"Addresses to listen on (default {DefaultUrls})." };
        var quant = new Option<string?>("--quant") { Description = "Quantise first to q4_k_m|q8_0|f16 (or 4|8|16); the result is kept beside the file." };
        var maxBatch = new Option<int?>("--max-batch-size") { Description = "Conversations decoded together (Model:Llama:MaxSequences, default 8)." };
        var command = new Command("serve", "Serve a model over an OpenAI-compatible API (/v1/chat/completions, /v1/models, /health).")
        {
            model,
            urls,
            quant,
            maxBatch,
        };
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction(async (result, cancellationToken) =>
        {
            try
            {
                var path = result.GetValue(model)!;
                if (result.GetValue(quant) is { } wanted)
                {
                    path = QuantizedCopy(path, ModelQuantizer.Parse(wanted));
                }

                var args = result.UnmatchedTokens.ToList();
                args.Add("--urls=" + (result.GetValue(urls) ?? DefaultUrls));
                args.Add("--Model:Llama:ModelPath=" + path);
                if (result.GetValue(maxBatch) is { } sequences)
                {
                    args.Add("--Model:Llama:MaxSequences=" + sequences);
                }

                await using var app = Build([.. args]);
                await app.RunAsync();
                return 0;
            }
            catch (ArgumentException ex)
            {
                Console.Error.WriteLine(ex.Message);
                return 2;
            }
            catch (Exception ex) when (HostComposition.TryReportConfigurationError(ex))
            {
                return 2;
            }
        });
        return command;
    }

    /// <summary>Builds the server; also used by tests, which pass <paramref name="configureServices"/> to
    /// replace a part after the host registered its own.</summary>
    public static WebApplication Build(string[] args, Action<IServiceCollection>? configureServices = null)
    {
        var builder = HostComposition.CreateWebBuilder(args, DefaultUrls);
        builder.Services.AddWeSeekInference(builder.Configuration).AddLlamaEngine();
        builder.AddWeSeekMetrics();
        builder.Services.AddHealthChecks().AddCheck<EngineHealthCheck>("engine", tags: [HealthTags.Ready]);
        builder.Services.AddSection<AccessOptions>(builder.Configuration, "Access");
        configureServices?.Invoke(builder.Services);
        var app = builder.Build();
        app.UseMiddleware<BrowserHardeningMiddleware>();
        app.UseMiddleware<AccessControlMiddleware>();
        var modelPath = builder.Configuration["Model:Llama:ModelPath"];
        // The bot's probe paths, so that one image and one set of probes serve both roles: live answers while the
        // process does; ready once the model is loaded (llama-server's /health, which the API keeps, says the same).
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false });
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = check => check.Tags.Contains(HealthTags.Ready) });
        app.MapPrometheusScrapingEndpoint("/metrics");
        app.MapOpenAiCompatible(string.IsNullOrEmpty(modelPath) ? "weseek" : Path.GetFileNameWithoutExtension(modelPath));
        return app;
    }

    private static string QuantizedCopy(string path, ModelQuantization quantization)
    {
        var target = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, $"{Path.GetFileNameWithoutExtension(path)}.{quantization.FileTag()}.gguf");
        if (!File.Exists(target))
        {
            Console.Error.WriteLine($"Quantising {path} to {quantization.FileTag()} → {target} …");
            ModelQuantizer.Quantize(path, target, quantization);
        }

        return target;
    }
}
