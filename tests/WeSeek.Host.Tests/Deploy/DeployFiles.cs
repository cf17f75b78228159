using System.Text.Json;
using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;

namespace WeSeek.Host.Tests.Deploy;

/// <summary>
/// What the files under <c>deploy/</c> say, read as they are: the Kubernetes manifests and the compose file as
/// YAML (YamlDotNet; kustomize's manifests are plain YAML, no templating to render), the Dockerfiles by their
/// instructions, the example secret files by their lines. Values are plain: a mapping is a dictionary, a
/// sequence a list, a scalar a string.
/// </summary>
internal static partial class DeployFiles
{
    /// <summary>The repository's root (where WeSeek.slnx is), found from the test's output directory.</summary>
    public static string Root { get; } = FindRoot();

    public static string Deploy => Path.Combine(Root, "deploy");

    public static string Kubernetes => Path.Combine(Deploy, "kubernetes");

    /// <summary>The images the project builds; containers running them run the <c>weseek</c> executable.</summary>
    public static readonly string[] OwnImages = ["weseek", "weseek-cuda"];

    /// <summary>Every YAML file under deploy/.</summary>
    public static IEnumerable<string> YamlFiles() =>
        Directory.EnumerateFiles(Deploy, "*.*", SearchOption.AllDirectories)
            .Where(f => f.EndsWith(".yaml", StringComparison.Ordinal) || f.EndsWith(".yml", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal);

    /// <summary>Every document of a YAML file, as plain values.</summary>
    public static List<Dictionary<string, object?>> Load(string path)
    {
        var stream = new YamlStream();
        using (var reader = new StreamReader(path))
        {
            stream.Load(reader);
        }

        return [.. stream.Documents.Select(d => Plain(d.RootNode)).OfType<Dictionary<string, object?>>()];
    }

    /// <summary>The Kubernetes objects kustomization.yaml lists.</summary>
    public static List<Dictionary<string, object?>> KubernetesObjects() =>
        [.. Strings(Kustomization().Get("resources")).SelectMany(r => Load(Path.Combine(Kubernetes, r)))];

    public static Dictionary<string, object?> Kustomization() => Load(Path.Combine(Kubernetes, "kustomization.yaml")).Single();

    public static IEnumerable<Dictionary<string, object?>> OfKind(this IEnumerable<Dictionary<string, object?>> objects, string kind) =>
        objects.Where(o => (string?)o.GetValueOrDefault("kind") == kind);

    public static string Name(this Dictionary<string, object?> o) => (string)o.Map("metadata")["name"]!;

    public static Dictionary<string, object?> Compose() => Load(Path.Combine(Deploy, "docker-compose.yml")).Single();

    public static JsonDocument Dashboard() =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(Kubernetes, "monitoring", "weseek-dashboard.json")));

    /// <summary>The containers (and init containers) of every Deployment, with the Deployment.</summary>
    public static IEnumerable<(Dictionary<string, object?> Deployment, Dictionary<string, object?> Container, bool Init)> Containers(IEnumerable<Dictionary<string, object?>> objects)
    {
        foreach (var deployment in objects.OfKind("Deployment"))
        {
            var pod = deployment.Map("spec").Map("template").Map("spec");
            foreach (var init in Maps(pod.Get("initContainers")))
            {
                yield return (deployment, init, true);
            }

            foreach (var container in Maps(pod.Get("containers")))
            {
                yield return (deployment, container, false);
            }
        }
    }

    /// <summary>The image's name without registry or tag.</summary>
    public static string ImageName(string image)
    {
        var name = image.Split('@')[0];
        var slash = name.LastIndexOf('/');
        var colon = name.LastIndexOf(':');
        if (colon > slash)
        {
            name = name[..colon];
        }

        return name[(slash + 1)..];
    }

    /// <summary>A Dockerfile's instructions in order (continuation lines joined, comments dropped).</summary>
    public static List<(string Instruction, string Arguments)> Dockerfile(string name)
    {
        var instructions = new List<(string, string)>();
        var pending = "";
        foreach (var raw in File.ReadAllLines(Path.Combine(Deploy, name)))
        {
            var line = raw.Trim();
            if (line.StartsWith('#') || (line.Length == 0 && pending.Length == 0))
            {
                continue;
            }

            if (line.EndsWith('\\'))
            {
                pending += line[..^1] + " ";
                continue;
            }

            var whole = (pending + line).Trim();
            pending = "";
            if (whole.Length > 0)
            {
                var space = whole.IndexOf(' ', StringComparison.Ordinal);
                instructions.Add((whole[..space].ToUpperInvariant(), whole[(space + 1)..].Trim()));
            }
        }

        return instructions;
    }

    /// <summary>The final stage of a Dockerfile: the instructions after its last FROM.</summary>
    public static List<(string Instruction, string Arguments)> FinalStage(string name)
    {
        var all = Dockerfile(name);
        return all[(all.FindLastIndex(i => i.Instruction == "FROM") + 1)..];
    }

    /// <summary>ENV's variables (the <c>KEY=value</c> form).</summary>
    public static IEnumerable<(string Name, string Value)> EnvInstructions(IEnumerable<(string Instruction, string Arguments)> stage) =>
        stage.Where(i => i.Instruction == "ENV").SelectMany(i => EnvPair().Matches(i.Arguments).Select(m => (m.Groups[1].Value, m.Groups[2].Value)));

    /// <summary>The exec form's arguments (<c>["a", "b"]</c>).</summary>
    public static string[] ExecForm(string arguments) => JsonSerializer.Deserialize<string[]>(arguments)!;

    /// <summary>The variables of an env file, with the commented-out examples (<c>#WESEEK__…=</c>) as well.</summary>
    public static IEnumerable<(string Name, string Value, bool Commented)> EnvFile(string path) =>
        File.ReadAllLines(path).Select(l => EnvLine().Match(l)).Where(m => m.Success)
            .Select(m => (m.Groups[2].Value, m.Groups[3].Value, m.Groups[1].Length > 0));

    /// <summary>The configuration key an environment variable sets (<c>WESEEK__Outbox__DailyCap</c> is
    /// <c>Outbox:DailyCap</c>), or null for a variable that is not WeSeek's configuration.</summary>
    public static string? ConfigurationKey(string variable) =>
        variable.StartsWith("WESEEK__", StringComparison.Ordinal) ? variable["WESEEK__".Length..].Replace("__", ":", StringComparison.Ordinal) : null;

    public static Dictionary<string, object?> Map(this Dictionary<string, object?> map, string key) =>
        map.GetValueOrDefault(key) as Dictionary<string, object?> ?? throw new KeyNotFoundException($"no mapping '{key}' in {string.Join(", ", map.Keys)}");

    public static object? Get(this Dictionary<string, object?> map, string key) => map.GetValueOrDefault(key);

    public static IEnumerable<Dictionary<string, object?>> Maps(object? sequence) =>
        sequence is List<object?> list ? list.OfType<Dictionary<string, object?>>() : [];

    public static IEnumerable<string> Strings(object? sequence) =>
        sequence is List<object?> list ? list.OfType<string>() : [];

    private static object? Plain(YamlNode node) => node switch
    {
        YamlMappingNode map => map.Children.ToDictionary(p => ((YamlScalarNode)p.Key).Value!, p => Plain(p.Value), StringComparer.Ordinal),
        YamlSequenceNode sequence => sequence.Children.Select(Plain).ToList(),
        YamlScalarNode scalar => scalar.Value,
        _ => null,
    };

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "WeSeek.slnx")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("WeSeek.slnx not found above " + AppContext.BaseDirectory);
    }

    [GeneratedRegex(@"([A-Za-z_][A-Za-z0-9_]*)=(""[^""]*""|\S*)")]
    private static partial Regex EnvPair();

    [GeneratedRegex(@"^(#?)\s*([A-Za-z_][A-Za-z0-9_]*)=(.*)$")]
    private static partial Regex EnvLine();
}
