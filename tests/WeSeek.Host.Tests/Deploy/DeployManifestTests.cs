using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using WeSeek.Configuration;
using WeSeek.Security;
using WeSeek.TestKit;

namespace WeSeek.Host.Tests.Deploy;

/// <summary>
/// deploy/ checked without a Docker daemon or a cluster: every file parses, every <c>WESEEK__</c> variable is a
/// key an option of this build reads, no secret sits in a ConfigMap or a committed file, and every container
/// runs a real verb.
/// </summary>
public sealed class DeployManifestTests
{
    [Fact]
    public void EveryFile_Parses_AndEveryKubernetesObjectHasAKindAndAName()
    {
        foreach (var file in DeployFiles.YamlFiles())
        {
            Assert.NotEmpty(DeployFiles.Load(file));
        }

        var kustomization = DeployFiles.Kustomization();
        foreach (var resource in DeployFiles.Strings(kustomization.Get("resources")))
        {
            Assert.True(File.Exists(Path.Combine(DeployFiles.Kubernetes, resource)), $"kustomization.yaml lists {resource}, which is not there");
        }

        // The secret file is the operator's (ignored by git); its example is here.
        foreach (var generator in DeployFiles.Maps(kustomization.Get("secretGenerator")))
        {
            foreach (var env in DeployFiles.Strings(generator.Get("envs")))
            {
                Assert.True(File.Exists(Path.Combine(DeployFiles.Kubernetes, env + ".example")), $"no {env}.example beside kustomization.yaml");
            }
        }

        foreach (var generator in DeployFiles.Maps(kustomization.Get("configMapGenerator")))
        {
            Assert.All(DeployFiles.Strings(generator.Get("files")), f => Assert.True(File.Exists(Path.Combine(DeployFiles.Kubernetes, f)), f));
        }

        var objects = DeployFiles.KubernetesObjects();
        Assert.All(objects, o =>
        {
            Assert.False(string.IsNullOrEmpty((string?)o.Get("apiVersion")));
            Assert.False(string.IsNullOrEmpty((string?)o.Get("kind")));
            Assert.False(string.IsNullOrEmpty(o.Name()));
        });
        string[] kinds = ["Deployment", "Service", "Ingress", "ConfigMap", "PersistentVolumeClaim", "HorizontalPodAutoscaler", "PodDisruptionBudget", "NetworkPolicy", "ServiceMonitor"];
        Assert.All(kinds, k => Assert.Contains(objects, o => (string?)o.Get("kind") == k));

        using var dashboard = DeployFiles.Dashboard();
        Assert.Equal("weseek", dashboard.RootElement.GetProperty("uid").GetString());
        Assert.Contains("services", DeployFiles.Compose().Keys);
    }

    [Fact]
    public async Task EveryWeseekVariable_IsAKeyAnOptionReads()
    {
        var variables = WeseekVariables().ToList();
        Assert.True(variables.Count > 30, $"only {variables.Count} variables found: is the reader broken?");

        // The sections a serving host binds, as its start-up check sees them, besides the catalog of every section.
        using var data = new TempDirectory();
        List<BoundSection> bound = [.. await ServeSectionsAsync(data), .. await ModelServeSectionsAsync(data)];
        var unknown = variables
            .Select(v => (v.Where, v.Name, Key: DeployFiles.ConfigurationKey(v.Name)!))
            .Where(v => !UnknownSettings.IsWeSeekSetting(v.Key, bound))
            .ToList();
        Assert.Empty(unknown.Select(u => $"{u.Where}: {u.Name} (no option reads {u.Key}; nearest {UnknownSettings.NearestKnown(u.Key, bound)})"));

        // The ones the images and the scale-out deployment depend on are among them, so the reader saw those files.
        Assert.Contains(variables, v => v.Name == "WESEEK__Model__Llama__NativeLibraryPath" && v.Where.Contains("Dockerfile.cuda", StringComparison.Ordinal));
        Assert.Contains(variables, v => v.Name == "WESEEK__Storage__Provider");
    }

    [Fact]
    public void NoSecret_SitsInAConfigMapAnImageOrTheComposeFile_AndTheExamplesHoldNone()
    {
        // Redaction.IsSecretKey is how the product itself decides what to mask in its logs.
        foreach (var map in DeployFiles.KubernetesObjects().OfKind("ConfigMap"))
        {
            var data = map.Get("data") as Dictionary<string, object?> ?? [];
            Assert.All(data.Keys, k => Assert.False(Redaction.IsSecretKey(DeployFiles.ConfigurationKey(k) ?? k), $"ConfigMap {map.Name()} holds the secret {k}"));
        }

        foreach (var (deployment, container, _) in DeployFiles.Containers(DeployFiles.KubernetesObjects()))
        {
            foreach (var env in DeployFiles.Maps(container.Get("env")))
            {
                Assert.False(Redaction.IsSecretKey(DeployFiles.ConfigurationKey((string)env["name"]!) ?? "") && env.ContainsKey("value"),
                    $"{deployment.Name()} sets the secret {env["name"]} as a literal value");
            }
        }

        foreach (var dockerfile in new[] { "Dockerfile", "Dockerfile.cuda" })
        {
            Assert.All(DeployFiles.EnvInstructions(DeployFiles.Dockerfile(dockerfile)), e =>
                Assert.False(Redaction.IsSecretKey(DeployFiles.ConfigurationKey(e.Name) ?? e.Name), $"{dockerfile} bakes {e.Name} into the image"));
        }

        foreach (var (name, service) in Services())
        {
            foreach (var (variable, value) in Environment(service))
            {
                // A secret in the compose file comes from a file: secrets.env, or a mounted secret (…File, …_FILE).
                Assert.False(Redaction.IsSecretKey(DeployFiles.ConfigurationKey(variable) ?? variable) && !variable.EndsWith("_FILE", StringComparison.Ordinal),
                    $"compose service {name} sets the secret {variable}={value} in the compose file");
            }
        }

        foreach (var example in new[] { Path.Combine(DeployFiles.Deploy, "secrets.env.example"), Path.Combine(DeployFiles.Kubernetes, "secrets.env.example") })
        {
            foreach (var (variable, value, _) in DeployFiles.EnvFile(example))
            {
                var key = DeployFiles.ConfigurationKey(variable) ?? variable;
                var secretPart = key.EndsWith("ConnectionString", StringComparison.OrdinalIgnoreCase)
                    ? value.Split(';').FirstOrDefault(p => p.StartsWith("Password=", StringComparison.OrdinalIgnoreCase))?["Password=".Length..] ?? ""
                    : value;
                Assert.True(!Redaction.IsSecretKey(key) || secretPart is "" or "CHANGE-ME", $"{Path.GetFileName(example)} holds a value for the secret {variable}");
            }
        }
    }

    [Fact]
    public void EveryContainer_RunsARealVerb()
    {
        var commands = new List<(string Where, string[] Args)>();
        foreach (var dockerfile in new[] { "Dockerfile", "Dockerfile.cuda" })
        {
            var stage = DeployFiles.FinalStage(dockerfile);
            var entrypoint = DeployFiles.ExecForm(stage.Last(i => i.Instruction == "ENTRYPOINT").Arguments);
            Assert.Equal(["/app/weseek"], entrypoint);
            commands.Add((dockerfile, DeployFiles.ExecForm(stage.Last(i => i.Instruction == "CMD").Arguments)));
        }

        foreach (var (name, service) in Services().Where(s => s.Service.Get("build") is not null || DeployFiles.OwnImages.Contains(DeployFiles.ImageName(ImageOf(s.Service)))))
        {
            commands.Add(($"compose service {name}", [.. DeployFiles.Strings(service.Get("command"))]));
        }

        foreach (var (deployment, container, _) in DeployFiles.Containers(DeployFiles.KubernetesObjects()))
        {
            Assert.Contains(DeployFiles.ImageName((string)container["image"]!), DeployFiles.OwnImages);
            Assert.Null(container.Get("command"));
            commands.Add(($"{deployment.Name()}/{container["name"]}", [.. DeployFiles.Strings(container.Get("args"))]));
        }

        Assert.True(commands.Count >= 7);
        foreach (var (where, args) in commands)
        {
            var parsed = WeSeekCli.CreateRoot().Parse(args);
            Assert.True(parsed.Errors.Count == 0, $"{where}: weseek {string.Join(' ', args)}: {string.Join("; ", parsed.Errors.Select(e => e.Message))}");
            var path = new List<string>();
            for (var result = parsed.CommandResult; result.Parent is System.CommandLine.Parsing.CommandResult parent; result = parent)
            {
                path.Insert(0, result.Command.Name);
            }

            var verb = string.Join(' ', path);
            Assert.True(verb is "serve" or "model serve" or "model pull", $"{where}: weseek {string.Join(' ', args)} runs '{verb}'");
            // serve and model serve accept unknown tokens as configuration flags: none are left over here.
            Assert.Empty(parsed.UnmatchedTokens);
        }
    }

    [Fact]
    public void BotDeployment_KeepsTwoReplicas_GivesRunningTurnsTheDrainTimeout_AndOpensMetricsToMonitoringOnly()
    {
        var objects = DeployFiles.KubernetesObjects();
        var bot = objects.OfKind("Deployment").Single(d => d.Name() == "weseek");
        var spec = bot.Map("spec");
        Assert.True(int.Parse((string)spec["replicas"]!, CultureInfo.InvariantCulture) >= 2);
        var pod = spec.Map("template").Map("spec");
        var container = DeployFiles.Maps(pod.Get("containers")).Single();

        // SIGTERM comes after preStop; the host then waits Dispatcher:DrainTimeout for running turns, then stops.
        var drain = TimeSpan.Parse((string)objects.OfKind("ConfigMap").Single(m => m.Name() == "weseek-settings").Map("data")["WESEEK__Dispatcher__DrainTimeout"]!, CultureInfo.InvariantCulture);
        var preStop = DeployFiles.Strings(container.Map("lifecycle").Map("preStop").Map("exec").Get("command")).ToList();
        Assert.Equal("sleep", preStop[0]);
        var grace = int.Parse((string)pod["terminationGracePeriodSeconds"]!, CultureInfo.InvariantCulture);
        var needed = int.Parse(preStop[1], CultureInfo.InvariantCulture) + drain.TotalSeconds;
        Assert.InRange(grace, needed + 1, needed + 30);
        // The host's own shutdown timeout (30 s) must not cut the drain short.
        Assert.True(drain < TimeSpan.FromSeconds(30));
        var compose = (string)DeployFiles.Compose().Map("services").Map("weseek")["stop_grace_period"]!;
        Assert.True(TimeSpan.FromSeconds(int.Parse(compose.TrimEnd('s'), CultureInfo.InvariantCulture)) > drain);

        var resources = container.Map("resources");
        Assert.Contains("cpu", resources.Map("requests").Keys);
        Assert.Contains("memory", resources.Map("limits").Keys);
        Assert.Equal("true", (string?)pod.Map("securityContext")["runAsNonRoot"]);

        var labels = spec.Map("template").Map("metadata").Map("labels");
        bool Selects(Dictionary<string, object?> selector) => selector.Map("matchLabels").All(l => (string?)labels.GetValueOrDefault(l.Key) == (string?)l.Value);
        Assert.True(Selects(objects.OfKind("PodDisruptionBudget").Single().Map("spec").Map("selector")));
        var hpa = objects.OfKind("HorizontalPodAutoscaler").Single().Map("spec");
        Assert.Equal("weseek", (string?)hpa.Map("scaleTargetRef")["name"]);
        Assert.True(int.Parse((string)hpa["minReplicas"]!, CultureInfo.InvariantCulture) >= 2);

        // The metrics port admits the monitoring namespace and nothing else; no rule opens it to everyone.
        var metricsPort = DeployFiles.Maps(container.Get("ports")).Single(p => (string?)p["name"] == "metrics")["containerPort"];
        var policy = objects.OfKind("NetworkPolicy").Single(n => Selects(n.Map("spec").Map("podSelector"))).Map("spec");
        Assert.Contains("Ingress", DeployFiles.Strings(policy.Get("policyTypes")));
        var metricsRules = DeployFiles.Maps(policy.Get("ingress")).Where(r => DeployFiles.Maps(r.Get("ports")).Any(p => (string?)p["port"] == (string?)metricsPort)).ToList();
        Assert.Single(metricsRules);
        var from = DeployFiles.Maps(metricsRules[0].Get("from")).Single();
        Assert.Equal("monitoring", (string?)from.Map("namespaceSelector").Map("matchLabels")["kubernetes.io/metadata.name"]);
        Assert.All(DeployFiles.Maps(policy.Get("ingress")), r => Assert.True(r.ContainsKey("ports") && r.ContainsKey("from"), "a rule without ports or sources opens everything"));
    }

    [Theory]
    [InlineData("Dockerfile")]
    [InlineData("Dockerfile.cuda")]
    public void Image_RunsAsAnUnprivilegedUser_KeepsDataOnAVolume_AndChecksLivenessOnThePortItServes(string dockerfile)
    {
        var stage = DeployFiles.FinalStage(dockerfile);
        var user = stage.Last(i => i.Instruction == "USER").Arguments;
        Assert.NotEqual("0", user.Split(':')[0]);
        Assert.NotEqual("root", user.Split(':')[0]);
        Assert.Contains(DeployFiles.EnvInstructions(stage), e => e.Name == "WESEEK_HOME" && e.Value == "/data");
        Assert.Contains("/data", stage.Where(i => i.Instruction == "VOLUME").Select(i => i.Arguments));

        var command = DeployFiles.ExecForm(stage.Last(i => i.Instruction == "CMD").Arguments);
        var port = new Uri(command[Array.IndexOf(command, "--urls") + 1]).Port;
        Assert.Contains(port.ToString(CultureInfo.InvariantCulture), stage.Where(i => i.Instruction == "EXPOSE").Select(i => i.Arguments));
        var healthcheck = stage.Last(i => i.Instruction == "HEALTHCHECK").Arguments;
        Assert.Contains($"http://127.0.0.1:{port}/health/live", healthcheck, StringComparison.Ordinal);

        // The build stage has every input of the build: the root's build settings and every project under src/.
        var copied = DeployFiles.Dockerfile(dockerfile).Where(i => i.Instruction == "COPY" && !i.Arguments.StartsWith("--from", StringComparison.Ordinal))
            .SelectMany(i => i.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries).SkipLast(1)).ToHashSet(StringComparer.Ordinal);
        string[] settings = ["global.json", "Directory.Build.props", "Directory.Packages.props", "BannedSymbols.txt", ".editorconfig"];
        Assert.All(settings, f => Assert.Contains(f, copied));
        foreach (var project in Directory.EnumerateFiles(Path.Combine(DeployFiles.Root, "src"), "*.csproj", SearchOption.AllDirectories))
        {
            Assert.Contains(Path.GetRelativePath(DeployFiles.Root, project).Replace('\\', '/'), copied);
        }

        Assert.Contains("src/", copied);
    }

    [Fact]
    public async Task Kustomize_RendersEveryObject_InTheNamespace_WithTheGeneratedSecretWired()
    {
        // kustomize is built into kubectl; where it is not installed, the files were still checked one by one.
        var kubectl = System.Environment.GetEnvironmentVariable("KUBECTL") ?? "/usr/bin/kubectl";
        if (!File.Exists(kubectl))
        {
            TestContext.Current.TestOutputHelper?.WriteLine("kubectl not installed: kustomize's rendering not checked.");
            return;
        }

        using var copy = new TempDirectory();
        foreach (var file in Directory.EnumerateFiles(DeployFiles.Kubernetes, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(copy.Path, Path.GetRelativePath(DeployFiles.Kubernetes, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }

        File.Copy(Path.Combine(copy.Path, "secrets.env.example"), Path.Combine(copy.Path, "secrets.env"), overwrite: true);
        using var process = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo(kubectl, new[] { "kustomize", copy.Path })
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        var rendered = await process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var errors = await process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await process.WaitForExitAsync(TestContext.Current.CancellationToken);
        Assert.True(process.ExitCode == 0, $"kubectl kustomize: {errors}");
        var output = Path.Combine(copy.Path, "rendered.yaml");
        await File.WriteAllTextAsync(output, rendered, TestContext.Current.CancellationToken);
        var objects = DeployFiles.Load(output);

        foreach (var source in DeployFiles.KubernetesObjects())
        {
            Assert.Contains(objects, o => (string?)o["kind"] == (string?)source["kind"] && o.Name() == source.Name());
        }

        Assert.All(objects.Where(o => (string?)o["kind"] != "Namespace"), o => Assert.Equal("weseek", (string?)o.Map("metadata")["namespace"]));
        var secret = objects.OfKind("Secret").Single();
        Assert.StartsWith("weseek-secrets-", secret.Name(), StringComparison.Ordinal);
        var expected = DeployFiles.EnvFile(Path.Combine(DeployFiles.Kubernetes, "secrets.env.example")).Where(v => !v.Commented).Select(v => v.Name).Order();
        Assert.Equal(expected, ((Dictionary<string, object?>)secret["data"]!).Keys.Order());
        var bot = DeployFiles.Containers(objects).Single(c => c.Deployment.Name() == "weseek").Container;
        Assert.Contains(DeployFiles.Maps(bot.Get("envFrom")), e => e.ContainsKey("secretRef") && (string?)e.Map("secretRef")["name"] == secret.Name());
        Assert.All(DeployFiles.Containers(objects), c => Assert.StartsWith("registry.example.com/weseek", (string)c.Container["image"]!, StringComparison.Ordinal));
        Assert.Contains(objects.OfKind("ConfigMap"), m => m.Name() == "weseek-grafana-dashboard" && (string?)m.Map("metadata").Map("labels")["grafana_dashboard"] == "1");
    }

    /// <summary>Every WESEEK__ variable the deployment sets, with where it is set.</summary>
    internal static IEnumerable<(string Where, string Name)> WeseekVariables() =>
        AllVariables().Where(v => v.Name.StartsWith("WESEEK__", StringComparison.Ordinal));

    private static IEnumerable<(string Where, string Name)> AllVariables()
    {
        foreach (var dockerfile in new[] { "Dockerfile", "Dockerfile.cuda" })
        {
            foreach (var (name, _) in DeployFiles.EnvInstructions(DeployFiles.Dockerfile(dockerfile)))
            {
                yield return (dockerfile, name);
            }
        }

        foreach (var (service, definition) in Services())
        {
            foreach (var (name, _) in Environment(definition))
            {
                yield return ($"docker-compose.yml {service}", name);
            }
        }

        foreach (var map in DeployFiles.KubernetesObjects().OfKind("ConfigMap"))
        {
            foreach (var name in (map.Get("data") as Dictionary<string, object?> ?? []).Keys)
            {
                yield return ($"ConfigMap {map.Name()}", name);
            }
        }

        foreach (var (deployment, container, _) in DeployFiles.Containers(DeployFiles.KubernetesObjects()))
        {
            foreach (var env in DeployFiles.Maps(container.Get("env")))
            {
                yield return ($"{deployment.Name()}/{container["name"]}", (string)env["name"]!);
            }
        }

        foreach (var example in new[] { Path.Combine(DeployFiles.Deploy, "secrets.env.example"), Path.Combine(DeployFiles.Kubernetes, "secrets.env.example") })
        {
            foreach (var (name, _, _) in DeployFiles.EnvFile(example))
            {
                yield return (Path.GetRelativePath(DeployFiles.Root, example), name);
            }
        }
    }

    private static async Task<List<BoundSection>> ServeSectionsAsync(TempDirectory data)
    {
        await using var app = Commands.ServeCommand.Build(["--urls=http://127.0.0.1:0", $"--Storage:DataDirectory={data.Path}", "--Model:Provider=remote"]);
        return [.. app.Services.GetServices<BoundSection>()];
    }

    private static async Task<List<BoundSection>> ModelServeSectionsAsync(TempDirectory data)
    {
        await using var app = Commands.ModelServeCommand.Build(["--urls=http://127.0.0.1:0", $"--Storage:DataDirectory={data.Path}"]);
        return [.. app.Services.GetServices<BoundSection>()];
    }

    private static IEnumerable<(string Name, Dictionary<string, object?> Service)> Services() =>
        DeployFiles.Compose().Map("services").Select(s => (s.Key, (Dictionary<string, object?>)s.Value!));

    private static string ImageOf(Dictionary<string, object?> service)
    {
        // ${WESEEK_IMAGE:-weseek:latest} → the default.
        var image = (string?)service.Get("image") ?? "";
        var fallback = image.IndexOf(":-", StringComparison.Ordinal);
        return fallback >= 0 ? image[(fallback + 2)..].TrimEnd('}') : image;
    }

    private static IEnumerable<(string Name, string Value)> Environment(Dictionary<string, object?> service) =>
        service.Get("environment") switch
        {
            Dictionary<string, object?> map => map.Where(p => p.Key.StartsWith("WESEEK", StringComparison.Ordinal) || p.Key.EndsWith("_FILE", StringComparison.Ordinal) || Redaction.IsSecretKey(p.Key))
                .Select(p => (p.Key, (string?)p.Value ?? "")),
            List<object?> list => list.OfType<string>().Select(e => (e.Split('=')[0], e.Contains('=', StringComparison.Ordinal) ? e[(e.IndexOf('=', StringComparison.Ordinal) + 1)..] : "")),
            _ => [],
        };
}
