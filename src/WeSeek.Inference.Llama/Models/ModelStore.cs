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

    /// <summary>Removes a stored model and any unfinished download of it.</summary>
    public void Remove(string name)
    {
        var path = Resolve(name);
        if (!Path.GetFullPath(path).StartsWith(Path.GetFullPath(Directory), StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"{path} is not in the models directory ({Directory}); remove it yourself.");
        }

        File.Delete(path);
        File.Delete(path + ".part");
    }
}
