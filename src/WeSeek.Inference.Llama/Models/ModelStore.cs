namespace WeSeek.Inference.Llama.Models;

/// <summary>A model in the models directory.</summary>
public sealed record StoredModel(string Name, string Path, long Size, GgufInfo? Info);

/// <summary>The models directory (<c>&lt;data&gt;/models</c>): list, resolve a name or path, remove.</summary>
public sealed class ModelStore(string directory)
{
    /// <summary>The directory.</summary>
    public string Directory { get; } = directory;

    /// <summary>Every complete GGUF file (downloads in progress end in <c>.part</c> and are not listed).</summary>
    public IReadOnlyList<StoredModel> List()
    {
        if (!System.IO.Directory.Exists(Directory))
        {
            return [];
        }

        return new DirectoryInfo(Directory).GetFiles("*.gguf").OrderBy(f => f.Name, StringComparer.Ordinal).Select(f =>
        {
            GgufInfo? info;
            try
            {
                info = GgufReader.Read(f.FullName);
            }
            catch (InvalidDataException)
            {
                info = null;
            }

            return new StoredModel(Path.GetFileNameWithoutExtension(f.Name), f.FullName, f.Length, info);
        }).ToList();
    }

    /// <summary>The newest model in <paramref name="modelsDirectory"/> that <c>serve</c> would pick (synthesised
    /// stand-ins and LoRA adapters are not models to run); null when there is none.</summary>
    public static string? NewestStored(string modelsDirectory) =>
        System.IO.Directory.Exists(modelsDirectory)
            ? new DirectoryInfo(modelsDirectory).GetFiles("*.gguf")
                .Where(f => !f.Name.StartsWith("synthetic-", StringComparison.Ordinal))
                .OrderByDescending(f => f.LastWriteTimeUtc)
                .FirstOrDefault(f => !IsAdapter(f.FullName))?.FullName
            : null;

    private static bool IsAdapter(string path)
    {
        try
        {
            return GgufReader.Read(path).Metadata.GetValueOrDefault("general.type") == "adapter";
        }
        catch (InvalidDataException)
        {
            return false; // Not ours to judge here: loading it says what is wrong.
        }
    }

    /// <summary>A path to an existing file, or the name of a stored model (with or without <c>.gguf</c>).</summary>
    /// <exception cref="FileNotFoundException">Neither; the message lists the stored models.</exception>
    public string Resolve(string nameOrPath)
    {
        if (File.Exists(nameOrPath))
        {
            return Path.GetFullPath(nameOrPath);
        }

        var stored = Path.Combine(Directory, nameOrPath.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase) ? nameOrPath : nameOrPath + ".gguf");
        if (File.Exists(stored))
        {
            return stored;
        }

        var names = List().Select(m => m.Name).ToList();
        throw new FileNotFoundException($"No model '{nameOrPath}'. Stored models: {(names.Count == 0 ? "none" : string.Join(", ", names))}.", nameOrPath);
    }

    /// <summary>Removes a stored model and any unfinished download of it. Only a model's name is taken, never a
    /// path: see <see cref="ResolveStored"/>.</summary>
    /// <exception cref="InvalidOperationException">The name leads outside the models directory.</exception>
    public void Remove(string name)
    {
        var path = ResolveStored(name);
        File.Delete(path);
        File.Delete(path + ".part");
    }

    /// <summary>
    /// The file of the stored model <paramref name="name"/> (with or without <c>.gguf</c>), contained in the
    /// directory: a name with a directory separator or a <c>..</c> segment is refused, the result must lie
    /// directly in the directory by <see cref="Path.GetRelativePath(string, string)"/> (a prefix test would take
    /// <c>models-backup</c> for <c>models</c>), and a symbolic link is followed to its final target, which must
    /// lie in the directory too.
    /// </summary>
    /// <exception cref="InvalidOperationException">The name leads outside the models directory.</exception>
    /// <exception cref="FileNotFoundException">No such model; the message lists the stored models.</exception>
    public string ResolveStored(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var file = name.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase) ? name : name + ".gguf";
        if (name.Length == 0 || name.Contains("..", StringComparison.Ordinal) || file.IndexOfAny(['/', '\\', Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar]) >= 0 || Path.IsPathRooted(file))
        {
            throw new InvalidOperationException($"'{name}' is not the name of a stored model (see `weseek model list`): names have no directories and no '..'.");
        }

        var root = RealPath(Path.GetFullPath(Directory));
        var path = Path.GetFullPath(Path.Combine(root, file));
        if (!IsDirectlyIn(root, path))
        {
            throw new InvalidOperationException($"'{name}' is not in the models directory ({Directory}); remove it yourself.");
        }

        if (!File.Exists(path))
        {
            var names = List().Select(m => m.Name).ToList();
            throw new FileNotFoundException($"No model '{name}'. Stored models: {(names.Count == 0 ? "none" : string.Join(", ", names))}.", name);
        }

        if (new FileInfo(path).ResolveLinkTarget(returnFinalTarget: true) is { } target && !IsDirectlyIn(root, RealPath(target.FullName)))
        {
            throw new InvalidOperationException($"'{name}' is a link to {target.FullName}, outside the models directory ({Directory}); remove it yourself.");
        }

        return path;
    }

    private static bool IsDirectlyIn(string root, string path)
    {
        var relative = Path.GetRelativePath(root, path);
        return relative != "." && !relative.StartsWith("..", StringComparison.Ordinal) && !Path.IsPathRooted(relative)
            && relative.IndexOfAny([Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar]) < 0;
    }

    // The directory with every symbolic link on the way resolved, so that a models directory reached through a
    // link compares with its files' real targets.
    private static string RealPath(string path)
    {
        var parent = Path.GetDirectoryName(path);
        var resolvedParent = parent is null ? null : RealPath(parent);
        var current = resolvedParent is null ? path : Path.Combine(resolvedParent, Path.GetFileName(path));
        FileSystemInfo info = System.IO.Directory.Exists(current) ? new DirectoryInfo(current) : new FileInfo(current);
        return info.Exists && info.ResolveLinkTarget(returnFinalTarget: true) is { } target ? RealPath(target.FullName) : current;
    }
}
