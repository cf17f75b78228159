using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;

namespace WeSeek.Inference.Llama.Models;

/// <summary>Progress of a pull: bytes of the current file so far and in all (null when the server does not say).</summary>
public readonly record struct PullProgress(string File, long Bytes, long? Total);

/// <summary>A pull that could not finish; the message says what happened and what to do.</summary>
public sealed class ModelPullException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ModelPullException() { }

    /// <summary>Creates the exception.</summary>
    public ModelPullException(string message) : base(message) { }

    /// <summary>Creates the exception.</summary>
    public ModelPullException(string message, Exception innerException) : base(message, innerException) { }
}

/// <summary>
/// Downloads catalog models: into <c>&lt;file&gt;.part</c>, resumed with an HTTP Range request after an
/// interruption, checked against the catalog's size and SHA-256 when it has them, then renamed into place,
/// so a file with the final name is always complete. The caller owns the <see cref="HttpClient"/> (from
/// <see cref="IHttpClientFactory"/> in the product).
/// </summary>
public sealed class ModelPuller
{
    private const int BufferSize = 1 << 20;
    private readonly HttpClient _http;
    private readonly Uri _endpoint;
    private readonly string _source;

    /// <summary>Creates a puller for an endpoint (<c>https://huggingface.co/</c>, a mirror, or ModelScope).</summary>
    public ModelPuller(HttpClient http, Uri endpoint, string source)
    {
        _http = http;
        _endpoint = endpoint.AbsoluteUri.EndsWith('/') ? endpoint : new Uri(endpoint.AbsoluteUri + "/");
        _source = source;
    }

    /// <summary>Downloads every file of <paramref name="entry"/> into <paramref name="directory"/>; returns the
    /// path of the first (the one to load).</summary>
    public async Task<string> PullAsync(CatalogEntry entry, string directory, IProgress<PullProgress>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        Directory.CreateDirectory(directory);
        foreach (var file in entry.Files)
        {
            var url = ModelCatalog.FileUrl(_endpoint, _source, entry.Repository, file.Path);
            await PullFileAsync(url, Path.Combine(directory, Path.GetFileName(file.Path)), file.Size, file.Sha256, progress, cancellationToken);
        }

        return Path.Combine(directory, entry.LocalName);
    }

    /// <summary>Downloads one URL to <paramref name="target"/>, resuming a previous <c>.part</c>.</summary>
    public async Task PullFileAsync(Uri url, string target, long? size, string? sha256, IProgress<PullProgress>? progress, CancellationToken cancellationToken)
    {
        if (File.Exists(target) && (size is null || new FileInfo(target).Length == size))
        {
            return;
        }

        var part = target + ".part";
        var name = Path.GetFileName(target);
        try
        {
            var have = File.Exists(part) ? new FileInfo(part).Length : 0;
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            if (have > 0)
            {
                request.Headers.Range = new RangeHeaderValue(have, null);
            }

            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable && have > 0)
            {
                // The .part already holds the whole file.
            }
            else
            {
                if (response.StatusCode == HttpStatusCode.NotFound)
                {
                    throw new ModelPullException($"{url} does not exist (404). The catalog may name a file the repository renamed; check it, or put a corrected catalog.json in the models directory.");
                }

                response.EnsureSuccessStatusCode();
                var resumed = response.StatusCode == HttpStatusCode.PartialContent;
                if (!resumed)
                {
                    have = 0; // The server ignored the range: start over.
                }

                var total = response.Content.Headers.ContentLength is long length ? length + have : size;
                await using var output = new FileStream(part, resumed ? FileMode.Append : FileMode.Create, FileAccess.Write, FileShare.None, BufferSize);
                await using var input = await response.Content.ReadAsStreamAsync(cancellationToken);
                var buffer = new byte[BufferSize];
                int read;
                while ((read = await input.ReadAsync(buffer, cancellationToken)) > 0)
                {
                    await output.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                    have += read;
                    progress?.Report(new PullProgress(name, have, total));
                }
            }
        }
        catch (HttpRequestException ex)
        {
            throw new ModelPullException(
                $"Could not download {name} from {url.Host} ({ex.Message}). Check the network, or set Models:Endpoint to a mirror (for example https://hf-mirror.com) " +
                "or Models:Source to modelscope; run the same command again to resume. Offline, `weseek model synth` makes a test model with random weights.", ex);
        }
        catch (IOException ex) when (ex is not EndOfStreamException)
        {
            throw new ModelPullException($"Downloading {name} stopped ({ex.Message}); run the same command again to resume. If the disk is full, free space in {Path.GetDirectoryName(target)}.", ex);
        }

        await VerifyAsync(part, name, size, sha256, cancellationToken);
        // Without a catalog size or checksum, the header is the check left (every shard of a split model is
        // a GGUF file too): a proxy's HTML error page fails here instead of at load time.
        try
        {
            GgufReader.Read(part);
        }
        catch (InvalidDataException ex)
        {
            File.Delete(part);
            throw new ModelPullException($"{name} is not a valid GGUF file ({ex.Message}); the download was removed. Check Models:Endpoint (a mirror may have answered with an error page) and pull again.", ex);
        }

        File.Move(part, target, overwrite: true);
    }

    private static async Task VerifyAsync(string part, string name, long? size, string? sha256, CancellationToken cancellationToken)
    {
        var actualSize = new FileInfo(part).Length;
        if (size is long expected && actualSize != expected)
        {
            if (actualSize > expected)
            {
                File.Delete(part);
            }

            throw new ModelPullException($"{name} is {actualSize} bytes, the catalog says {expected}; run the same command again to resume.");
        }

        if (sha256 is not null)
        {
            await using var stream = File.OpenRead(part);
            var actual = Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancellationToken));
            if (!string.Equals(actual, sha256, StringComparison.OrdinalIgnoreCase))
            {
                File.Delete(part);
                throw new ModelPullException($"{name} failed its checksum (sha256 {actual}, expected {sha256}); the download was removed. Pull again; if it fails again, the mirror serves a different file.");
            }
        }
    }
}
