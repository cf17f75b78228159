namespace WeSeek.Knowledge;

/// <summary>A file to ingest and the source name it is known by in the knowledge base.</summary>
/// <param name="Source">A file's name, or its path relative to the folder that was added (with '/').</param>
/// <param name="Path">The file on disk.</param>
internal sealed record KnowledgeFile(string Source, string Path);

/// <summary>Finds the documents under the paths given to <c>weseek kb add</c>.</summary>
internal static class KnowledgeFiles
{
    /// <summary>
    /// Files named directly (any supported extension) and the supported files under folders (recursively), in
    /// a stable order. Throws <see cref="FileNotFoundException"/> for a path that does not exist and
    /// <see cref="NotSupportedException"/> for a file named directly in a format that cannot be read.
    /// </summary>
    public static List<KnowledgeFile> Collect(IEnumerable<string> paths)
    {
        var files = new List<KnowledgeFile>();
        foreach (var path in paths)
        {
            if (File.Exists(path))
            {
                if (!DocumentReader.IsSupported(path))
                {
                    throw new NotSupportedException($"{path}: not a supported document (supported: {string.Join(", ", DocumentReader.Extensions.Order(StringComparer.Ordinal))}).");
                }

                files.Add(new KnowledgeFile(System.IO.Path.GetFileName(path), path));
            }
            else if (Directory.Exists(path))
            {
                files.AddRange(Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories)
                    .Where(DocumentReader.IsSupported)
                    .Select(f => new KnowledgeFile(System.IO.Path.GetRelativePath(path, f).Replace('\\', '/'), f))
                    .OrderBy(f => f.Source, StringComparer.Ordinal));
            }
            else
            {
                throw new FileNotFoundException($"{path}: no such file or folder.", path);
            }
        }

        return files;
    }
}
