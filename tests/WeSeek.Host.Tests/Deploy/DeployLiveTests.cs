using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using WeSeek.Host.Commands;
using WeSeek.Inference.Llama.Models;
using WeSeek.Messaging;
using WeSeek.Operations;
using WeSeek.TestKit;

namespace WeSeek.Host.Tests.Deploy;

/// <summary>
/// The Kubernetes Deployments' containers run as the manifests say (their arguments, their ConfigMap, the example
/// secrets filled in, <c>--strict-config</c>), on loopback ports standing for their container ports: every probe
/// and Ingress path is a route on the port it names, <c>/metrics</c> answers on the metrics port only, and every
/// metric the Grafana dashboard and the autoscaler read is in a live scrape of the bot and the engine.
/// </summary>
/// <remarks>What differs from the cluster, and why: SQLite in a temporary directory instead of PostgreSQL (none
/// runs here; the <c>Storage</c> keys are left out), a loopback engine (a fake OpenAI server for the bot, a
/// synthesised tiny model for the engine), 127.0.0.1 added to the metrics allow-list (the test's address), and the
/// channels' API base URLs on loopback (no request leaves the machine).</remarks>
public sealed partial class DeployLiveTests
{
    private static readonly string[] ProbeKinds = ["startupProbe", "livenessProbe", "readinessProbe"];

    [Fact]
    public async Task BotDeployment_AnswersItsProbesAndIngressPathsOnTheHttpPort_AndMetricsOnlyOnTheMetricsPort()
    {
        using var data = new TempDirectory();
        await using var engine = await FakeOpenAiServer.StartAsync();
        var objects = DeployFiles.KubernetesObjects();
        var (deployment, container) = Container(objects, "weseek", "weseek");
        var ports = FreePorts(container);
        await using var app = ServeCommand.Build([.. BotArgs(objects, container, ports, data, engine.BaseUrl)]);
        await app.StartAsync(TestContext.Current.CancellationToken);
        using var http = TestHttp.CreateClient(new Uri("http://127.0.0.1/"));

        foreach (var (kind, path, port) in Probes(container))
        {
            var response = await http.GetAsync(new Uri($"http://127.0.0.1:{ports[port]}{path}"), TestContext.Current.CancellationToken);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{deployment.Name()} {kind} probe GET {path} on port {port}: {(int)response.StatusCode}");
        }

        // The Ingress sends /wechat/ and /onebot/ to the Service's port, which is the container's http port, where
        // the channels' routes are (OneBot's WebSocket is mapped as middleware, not as a route endpoint); each one
        // answers there, for the example's account "demo", with something other than 404.
        var routes = app.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Select(e => "/" + e.RoutePattern.RawText!.TrimStart('/')).Append(Microsoft.AspNetCore.Builder.OneBotEndpoints.Path)
            .Select(r => RouteParameter().Replace(r, "demo")).Distinct().ToList();
        var service = objects.OfKind("Service").Single(s => s.Name() == "weseek");
        foreach (var ingressPath in IngressPaths(objects))
        {
            Assert.Equal("weseek", ingressPath.Service);
            var servicePort = DeployFiles.Maps(service.Map("spec").Get("ports")).Single(p => (string?)p["name"] == ingressPath.Port);
            Assert.Equal("http", (string?)servicePort["targetPort"]);
            var under = routes.Where(r => r.StartsWith(ingressPath.Path, StringComparison.Ordinal)).ToList();
            Assert.True(under.Count > 0, $"no route under {ingressPath.Path}: {string.Join(", ", routes)}");
            foreach (var route in under)
            {
                var response = await http.GetAsync(new Uri($"http://127.0.0.1:{ports["http"]}{route}"), TestContext.Current.CancellationToken);
                Assert.True(response.StatusCode != HttpStatusCode.NotFound, $"GET {route} (under the Ingress path {ingressPath.Path}): 404");
            }
        }

        // The ServiceMonitor scrapes the Service's metrics port, which is the container's metrics port.
        var monitor = objects.OfKind("ServiceMonitor").Single();
        var endpoint = DeployFiles.Maps(monitor.Map("spec").Get("endpoints")).Single();
        Assert.Equal("metrics", (string?)DeployFiles.Maps(service.Map("spec").Get("ports")).Single(p => (string?)p["name"] == (string?)endpoint["port"])["targetPort"]);
        var scrape = await http.GetAsync(new Uri($"http://127.0.0.1:{ports["metrics"]}{endpoint["path"]}"), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, scrape.StatusCode);
        var elsewhere = await http.GetAsync(new Uri($"http://127.0.0.1:{ports["http"]}{endpoint["path"]}"), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.NotFound, elsewhere.StatusCode);
    }

    [Fact]
    public async Task EngineDeployment_AnswersItsProbes_AndMetricsOnlyOnTheMetricsPort()
    {
        using var data = new TempDirectory();
        var objects = DeployFiles.KubernetesObjects();
        var (deployment, container) = Container(objects, "weseek-engine", "engine");
        var ports = FreePorts(container);
        await using var app = ModelServeCommand.Build([.. EngineArgs(objects, container, ports, data)]);
        await app.StartAsync(TestContext.Current.CancellationToken);
        using var http = TestHttp.CreateClient(new Uri("http://127.0.0.1/"));

        foreach (var (kind, path, port) in Probes(container))
        {
            var response = await http.GetAsync(new Uri($"http://127.0.0.1:{ports[port]}{path}"), TestContext.Current.CancellationToken);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{deployment.Name()} {kind} probe GET {path} on port {port}: {(int)response.StatusCode}");
        }

        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(new Uri($"http://127.0.0.1:{ports["metrics"]}/metrics"), TestContext.Current.CancellationToken)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync(new Uri($"http://127.0.0.1:{ports["http"]}/metrics"), TestContext.Current.CancellationToken)).StatusCode);
        // The bot's ConfigMap points at the engine's Service, by its name, on the port that leads to the
        // container's http port, under /v1; the engine answers that name.
        var engineUrl = new Uri((string)objects.OfKind("ConfigMap").Single(m => m.Name() == "weseek-settings").Map("data")["WESEEK__Model__Remote__BaseUrl"]!);
        var engineService = objects.OfKind("Service").Single(s => s.Name() == engineUrl.Host);
        var servicePort = DeployFiles.Maps(engineService.Map("spec").Get("ports")).Single(p => (string?)p["port"] == engineUrl.Port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal("http", (string?)servicePort["targetPort"]);
        using var models = new HttpRequestMessage(HttpMethod.Get, new Uri($"http://127.0.0.1:{ports["http"]}{engineUrl.AbsolutePath.TrimEnd('/')}/models"));
        models.Headers.Host = engineUrl.Authority;
        var answer = await http.SendAsync(models, TestContext.Current.CancellationToken);
        Assert.True(answer.StatusCode == HttpStatusCode.OK, $"GET {engineUrl}models with Host {engineUrl.Authority}: {(int)answer.StatusCode}");
    }

    [Fact]
    public async Task EveryMetricOfTheDashboardAndTheAutoscaler_IsInALiveScrapeOfTheBotOrTheEngine()
    {
        var needed = DashboardMetrics().Concat(AutoscalerMetrics()).ToHashSet(StringComparer.Ordinal);
        Assert.Contains("weseek_queue_depth", needed);
        Assert.Contains("hw_gpu_memory_usage_bytes", needed);

        var objects = DeployFiles.KubernetesObjects();
        var names = new HashSet<string>(StringComparer.Ordinal);
        using (var data = new TempDirectory())
        await using (var engine = await FakeOpenAiServer.StartAsync())
        {
            var (_, container) = Container(objects, "weseek", "weseek");
            var ports = FreePorts(container);
            var model = ScriptedChatClient.Echo();
            model.ReportUsage = true;
            model.ChunkDelay = TimeSpan.FromMilliseconds(5);
            // A channel with WeChat's daily cap (the web chat has none), so that an account has sends to count.
            var wechat = new RecordingChannel("wechat-test", TimeProvider.System);
            await using var app = ServeCommand.Build([.. BotArgs(objects, container, ports, data, engine.BaseUrl)], services =>
            {
                services.RemoveAll<IChatClient>();
                services.AddChatClient(model).UseReasoningSplit();
                services.AddSingleton<IChannel>(wechat);
                services.RemoveAll<IGpuMemorySource>();
                services.AddSingleton<IGpuMemorySource>(new OneGpu());
            });
            await app.StartAsync(TestContext.Current.CancellationToken);
            using var http = TestHttp.CreateClient(new Uri($"http://127.0.0.1:{ports["http"]}/"));

            Assert.Equal(AcceptOutcome.Stored, (await wechat.Sink!.AcceptAsync(wechat.Message("m-1", "chat-1", "你好"), TestContext.Current.CancellationToken)).Outcome);
            await WebChat.WebChatEndToEndTests.PostAsync(http, "c-deploy", "m-1", "你好");
            await WebChat.WebChatEndToEndTests.WaitForRepliesAsync(http, "c-deploy", 1);
            var samples = await ScrapeUntilAsync(new Uri($"http://127.0.0.1:{ports["metrics"]}/metrics"), ["weseek_outbox_daily_sent", "weseek_reply_last_chunk_latency_seconds_bucket", "weseek_queue_depth"]);
            names.UnionWith(samples.Select(s => s.Name));
            // The capped channel's one send counts against its account's day; the web chat (no cap) does not appear.
            Assert.Contains(samples, s => s.Name == "weseek_outbox_daily_sent" && s.Labels["channel"] == "wechat-test" && s.Labels["account"] == "acct" && s.Value == 1);
            Assert.DoesNotContain(samples, s => s.Name == "weseek_outbox_daily_sent" && s.Labels["channel"] == "webchat");
            Assert.Contains(samples, s => s.Name == "weseek_outbox_daily_cap" && s.Value == 5000);
        }

        using (var data = new TempDirectory())
        {
            var (_, container) = Container(objects, "weseek-engine", "engine");
            var ports = FreePorts(container);
            await using var app = ModelServeCommand.Build([.. EngineArgs(objects, container, ports, data)], services =>
            {
                services.RemoveAll<IGpuMemorySource>();
                services.AddSingleton<IGpuMemorySource>(new OneGpu());
            });
            await app.StartAsync(TestContext.Current.CancellationToken);
            using var http = TestHttp.CreateClient(new Uri($"http://127.0.0.1:{ports["http"]}/"));
            // Two turns of one conversation: the second continues the first's KV cache.
            for (var turn = 1; turn <= 2; turn++)
            {
                var response = await http.PostAsJsonAsync("/v1/chat/completions", new
                {
                    model = "tiny",
                    user = "deploy-test",
                    max_tokens = 4,
                    messages = turn == 1 ? new object[] { new { role = "user", content = "你好" } }
                        : [new { role = "user", content = "你好" }, new { role = "assistant", content = "嗯" }, new { role = "user", content = "再说" }],
                }, TestContext.Current.CancellationToken);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            }

            var samples = await ScrapeUntilAsync(new Uri($"http://127.0.0.1:{ports["metrics"]}/metrics"), ["weseek_llama_prompt_tokens_total", "weseek_llama_kv_cells", "hw_gpu_memory_usage_bytes"]);
            names.UnionWith(samples.Select(s => s.Name));
            Assert.Contains(samples, s => s.Name == "hw_gpu_memory_limit_bytes" && s.Labels["hw_id"] == "0" && s.Value == 24.0 * (1L << 30));
        }

        var missing = needed.Where(n => !names.Contains(n)).Order(StringComparer.Ordinal).ToList();
        Assert.True(missing.Count == 0, $"named by the dashboard or the autoscaler, not exported: {string.Join(", ", missing)}");
    }

    /// <summary>The metric names in the dashboard's queries (panels and variables).</summary>
    internal static IEnumerable<string> DashboardMetrics()
    {
        using var dashboard = DeployFiles.Dashboard();
        var expressions = new List<string>();
        foreach (var panel in dashboard.RootElement.GetProperty("panels").EnumerateArray())
        {
            if (panel.TryGetProperty("targets", out var targets))
            {
                expressions.AddRange(targets.EnumerateArray().Select(t => t.GetProperty("expr").GetString()!));
            }
        }

        foreach (var variable in dashboard.RootElement.GetProperty("templating").GetProperty("list").EnumerateArray())
        {
            if (variable.TryGetProperty("definition", out var definition) && LabelValues().Match(definition.GetString()!) is { Success: true } match)
            {
                expressions.Add(match.Groups[1].Value);
            }
        }

        Assert.True(expressions.Count >= 10, "the dashboard has fewer queries than panels");
        return expressions.SelectMany(MetricNames).Distinct();
    }

    /// <summary>The metrics behind the HPA's external metrics, through the Prometheus Adapter's rules.</summary>
    internal static IEnumerable<string> AutoscalerMetrics()
    {
        var rules = DeployFiles.Load(Path.Combine(DeployFiles.Kubernetes, "monitoring", "prometheus-adapter-rules.yaml")).Single().Map("rules");
        var external = DeployFiles.Maps(rules.Get("external")).ToList();
        var served = external.Select(r => (string)r.Map("name")["as"]!).ToHashSet(StringComparer.Ordinal);
        foreach (var hpa in DeployFiles.KubernetesObjects().OfKind("HorizontalPodAutoscaler"))
        {
            foreach (var metric in DeployFiles.Maps(hpa.Map("spec").Get("metrics")))
            {
                Assert.Equal("External", (string?)metric["type"]);
                var name = (string)metric.Map("external").Map("metric")["name"]!;
                Assert.True(served.Contains(name), $"HPA {hpa.Name()} reads {name}, which no adapter rule serves");
            }
        }

        return external.SelectMany(r => MetricNames((string)r["seriesQuery"]!).Concat(MetricNames(((string)r["metricsQuery"]!).Replace("<<.LabelMatchers>>", "", StringComparison.Ordinal).Replace("<<.GroupBy>>", "namespace", StringComparison.Ordinal))));
    }

    /// <summary>The metric names in a PromQL expression: identifiers that are not functions, keywords, label names
    /// (in braces or in by/without/on lists) or Grafana variables.</summary>
    internal static IEnumerable<string> MetricNames(string expression)
    {
        var bare = Braces().Replace(expression, "");
        bare = Ranges().Replace(bare, "");
        bare = Grouping().Replace(bare, "");
        bare = Quoted().Replace(bare, "");
        foreach (Match match in Identifier().Matches(bare))
        {
            var name = match.Groups[1].Value;
            var next = bare[(match.Index + match.Length)..].TrimStart();
            if (next.StartsWith('(') || name is "by" or "without" or "on" or "ignoring" or "and" or "or" or "unless" or "bool" or "offset" or "group_left" or "group_right")
            {
                continue;
            }

            yield return name;
        }
    }

    private static (Dictionary<string, object?> Deployment, Dictionary<string, object?> Container) Container(List<Dictionary<string, object?>> objects, string deployment, string container)
    {
        var found = DeployFiles.Containers(objects).Single(c => c.Deployment.Name() == deployment && (string?)c.Container["name"] == container && !c.Init);
        return (found.Deployment, found.Container);
    }

    /// <summary>A free loopback port for each container port, by the port's name.</summary>
    private static Dictionary<string, int> FreePorts(Dictionary<string, object?> container)
    {
        var ports = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var port in DeployFiles.Maps(container.Get("ports")))
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            ports[(string)port["name"]!] = ((IPEndPoint)listener.LocalEndpoint).Port;
            ports["container:" + (string)port["containerPort"]!] = ports[(string)port["name"]!];
        }

        return ports;
    }

    /// <summary>The container's arguments with its listen addresses moved to loopback ports.</summary>
    private static List<string> LocalArgs(Dictionary<string, object?> container, Dictionary<string, int> ports)
    {
        var args = DeployFiles.Strings(container.Get("args")).ToList();
        var urls = args.IndexOf("--urls") + 1;
        Assert.True(urls > 0, "the container names its listen addresses");
        var declared = ports.Keys.Where(k => k.StartsWith("container:", StringComparison.Ordinal)).Select(k => k["container:".Length..]).ToHashSet();
        var listened = args[urls].Split(';').Select(u => new Uri(u).Port.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToHashSet();
        // Every declared port is listened on, and nothing else.
        Assert.Equal(declared.Order(), listened.Order());
        args[urls] = string.Join(';', args[urls].Split(';').Select(u => $"http://127.0.0.1:{ports["container:" + new Uri(u).Port.ToString(System.Globalization.CultureInfo.InvariantCulture)]}"));
        return args;
    }

    /// <summary>The settings a ConfigMap gives, as flags; the Storage keys are left out (SQLite here) and the
    /// metrics port follows the local port.</summary>
    private static IEnumerable<string> ConfigMapArgs(List<Dictionary<string, object?>> objects, Dictionary<string, object?> container, Dictionary<string, int> ports)
    {
        foreach (var source in DeployFiles.Maps(container.Get("envFrom")).Where(s => s.ContainsKey("configMapRef")))
        {
            var map = objects.OfKind("ConfigMap").Single(m => m.Name() == (string)source.Map("configMapRef")["name"]!);
            foreach (var (variable, value) in (Dictionary<string, object?>)map["data"]!)
            {
                var key = DeployFiles.ConfigurationKey(variable)!;
                if (key.StartsWith("Storage:", StringComparison.Ordinal))
                {
                    continue;
                }

                if (key.EndsWith(":Port", StringComparison.Ordinal) && (string?)value is { } port)
                {
                    Assert.True(ports.ContainsKey("container:" + port), $"{key}={port} is not a port of the container");
                    yield return $"--{key}={ports["container:" + port]}";
                    continue;
                }

                yield return $"--{key}={value}";
            }
        }

        // The test's own address (the ConfigMap allows the pod networks).
        yield return "--Access:Groups:metrics:Allow:9=127.0.0.1";
    }

    private static List<string> BotArgs(List<Dictionary<string, object?>> objects, Dictionary<string, object?> container, Dictionary<string, int> ports, TempDirectory data, Uri engine)
    {
        var args = LocalArgs(container, ports);
        Assert.Equal("serve", args[0]);
        args.RemoveAt(0);
        args.AddRange(ConfigMapArgs(objects, container, ports).Where(a => !a.StartsWith("--Model:Remote:BaseUrl=", StringComparison.Ordinal)));
        args.Add($"--Model:Remote:BaseUrl={engine}");
        args.Add($"--Storage:DataDirectory={data.Path}");
        args.Add("--Outbox:PollInterval=00:00:00.100");
        // The example secrets, filled in: the encryption keys, and every channel the example names.
        foreach (var (variable, _, _) in DeployFiles.EnvFile(Path.Combine(DeployFiles.Kubernetes, "secrets.env.example")))
        {
            var key = DeployFiles.ConfigurationKey(variable)!;
            if (!key.StartsWith("Storage:", StringComparison.Ordinal))
            {
                args.Add($"--{key}={ExampleValue(key)}");
            }
        }

        args.Add("--OfficialAccount:ApiBaseUrl=http://127.0.0.1:9/");
        args.Add("--WeCom:ApiBaseUrl=http://127.0.0.1:9/");
        Assert.Contains("--StrictConfig=true", args);
        return args;
    }

    private static List<string> EngineArgs(List<Dictionary<string, object?>> objects, Dictionary<string, object?> container, Dictionary<string, int> ports, TempDirectory data)
    {
        var args = LocalArgs(container, ports);
        Assert.Equal(["model", "serve"], args[..2]);
        args.RemoveRange(0, 2);
        var model = args.IndexOf("--model") + 1;
        var modelPath = Path.Combine(data.Path, "models", Path.GetFileName(args[model]));
        Directory.CreateDirectory(Path.GetDirectoryName(modelPath)!);
        ModelSynthesizer.Write(modelPath, ModelShape.Tiny);
        // model serve's own flags are handled by the verb; the host gets them as configuration.
        var urls = args[args.IndexOf("--urls") + 1];
        var batch = args[args.IndexOf("--max-batch-size") + 1];
        return
        [
            $"--urls={urls}", $"--Model:Llama:ModelPath={modelPath}", $"--Model:Llama:MaxSequences={batch}", $"--Storage:DataDirectory={data.Path}",
            .. ConfigMapArgs(objects, container, ports).Where(a => !a.StartsWith("--Model:Llama:GpuLayers", StringComparison.Ordinal) && !a.StartsWith("--Model:Llama:MaxGpuMemoryMiB", StringComparison.Ordinal)),
        ];
    }

    private static string ExampleValue(string key) => key.Split(':')[^1] switch
    {
        "Keys" => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
        "EncodingAesKey" => "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
        "AgentId" => "1000002",
        "Enabled" => "true",
        "AppId" => "wx0000000000000000",
        "CorpId" => "ww0000000000000000",
        _ => "test-" + key.Split(':')[^1].ToLowerInvariant(),
    };

    private static IEnumerable<(string Kind, string Path, string Port)> Probes(Dictionary<string, object?> container)
    {
        var probes = ProbeKinds.Where(container.ContainsKey).ToList();
        Assert.Equal(3, probes.Count);
        foreach (var kind in probes)
        {
            var get = container.Map(kind).Map("httpGet");
            yield return (kind, (string)get["path"]!, (string)get["port"]!);
        }
    }

    private static IEnumerable<(string Path, string Service, string Port)> IngressPaths(List<Dictionary<string, object?>> objects)
    {
        foreach (var ingress in objects.OfKind("Ingress"))
        {
            foreach (var rule in DeployFiles.Maps(ingress.Map("spec").Get("rules")))
            {
                foreach (var path in DeployFiles.Maps(rule.Map("http").Get("paths")))
                {
                    var service = path.Map("backend").Map("service");
                    yield return ((string)path["path"]!, (string)service["name"]!, (string)service.Map("port")["name"]!);
                }
            }
        }
    }

    private static async Task<IReadOnlyList<PrometheusSample>> ScrapeUntilAsync(Uri metrics, string[] names)
    {
        using var http = TestHttp.CreateClient(metrics);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        var text = "";
        try
        {
            while (!names.All(n => text.Contains(n, StringComparison.Ordinal)))
            {
                await Task.Delay(200, timeout.Token);
                text = await http.GetStringAsync(metrics, timeout.Token);
            }
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"after 30 s, /metrics still lacks {string.Join(", ", names.Where(n => !text.Contains(n, StringComparison.Ordinal)))}");
        }

        return PrometheusText.Parse(text);
    }

    /// <summary>A GPU where there is none: the engine's and the bot's gauges are exported as on a GPU machine.</summary>
    private sealed class OneGpu : IGpuMemorySource
    {
        public bool TryOpen() => true;

        public IReadOnlyList<GpuMemory> Read() => [new GpuMemory(0, "Test GPU", 1UL << 30, 24UL << 30)];

        public void Close()
        {
        }
    }

    [GeneratedRegex(@"\{[^}]*\}")]
    private static partial Regex Braces();

    [GeneratedRegex(@"\{[^}]*\}")]
    private static partial Regex RouteParameter();

    [GeneratedRegex(@"\[[^\]]*\]")]
    private static partial Regex Ranges();

    [GeneratedRegex(@"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")]
    private static partial Regex Grouping();

    [GeneratedRegex(@"""[^""]*""|'[^']*'")]
    private static partial Regex Quoted();

    [GeneratedRegex(@"(?<![\w$.])([a-zA-Z_:][a-zA-Z0-9_:]*)")]
    private static partial Regex Identifier();

    [GeneratedRegex(@"label_values\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)")]
    private static partial Regex LabelValues();
}
