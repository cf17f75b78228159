using System.Globalization;
using System.Security.Cryptography;
using Lucene.Net.Analysis;
using Lucene.Net.Analysis.Cn.Smart;
using Lucene.Net.Analysis.TokenAttributes;
using Lucene.Net.Documents;
using Lucene.Net.Index;
using Lucene.Net.Search;
using Lucene.Net.Search.Similarities;
using Lucene.Net.Store;
using Lucene.Net.Util;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WeSeek.Logging;
using WeSeek.Storage;
using LuceneDirectory = Lucene.Net.Store.Directory;

namespace WeSeek.Knowledge;

/// <summary>A retrieved passage with its BM25 score.</summary>
internal sealed record KnowledgeHit(string Source, string Heading, string Text, float Score);

/// <summary>A document in the knowledge base.</summary>
internal sealed record KnowledgeSource(string Source, int Passages, string Hash, DateTimeOffset AddedAt);

/// <summary>What adding one document did.</summary>
internal enum IngestOutcome
{
    Added,
    Replaced,
    Unchanged,
    Empty,

    /// <summary>The file could not be read (a damaged or encrypted PDF, a file not in its extension's format); the index keeps what it had.</summary>
    Unreadable,
}

/// <summary>
/// The knowledge base: passages in a Lucene index under the data directory, analysed with SmartCn (Chinese words,
/// not characters) and ranked with BM25. One document per passage, keyed by its source; a source's content
/// hash decides whether adding it again replaces its passages. Searching is thread-safe and sees what another
/// process (<c>weseek kb add</c>) committed; writing is for one process at a time (Lucene's write lock).
/// </summary>
internal sealed partial class KnowledgeIndex : IDisposable
{
    private const LuceneVersion Version = LuceneVersion.LUCENE_48;
    private readonly KnowledgeOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<KnowledgeIndex> _logger;
    private readonly Lazy<Analyzer> _analyzer = new(() => new SmartChineseAnalyzer(Version));
    private readonly System.Threading.Lock _gate = new();
    private LuceneDirectory? _directory;
    private DirectoryReader? _reader;

    public KnowledgeIndex(IOptions<KnowledgeOptions> options, IOptions<StorageOptions> storage, TimeProvider time, ILogger<KnowledgeIndex> logger)
    {
        _options = options.Value;
        _time = time;
        _logger = logger;
        Path = string.IsNullOrEmpty(_options.Directory) ? System.IO.Path.Combine(storage.Value.DataDirectory, "kb") : _options.Directory;
    }

    /// <summary>The index directory.</summary>
    public string Path { get; }

    /// <summary>The best passages for a question, best first; empty when nothing matches or there is no index.</summary>
    public IReadOnlyList<KnowledgeHit> Search(string question, int count)
    {
        var terms = Terms(question);
        if (terms.Count == 0 || Searcher() is not { } searcher)
        {
            return [];
        }

        var query = new BooleanQuery();
        foreach (var term in terms.Distinct(StringComparer.Ordinal).Take(BooleanQuery.MaxClauseCount / 2))
        {
            query.Add(new TermQuery(new Term("text", term)), Occur.SHOULD);
            query.Add(new TermQuery(new Term("heading", term)) { Boost = 0.5f }, Occur.SHOULD);
        }

        var hits = new List<KnowledgeHit>(count);
        foreach (var scored in searcher.Search(query, count).ScoreDocs)
        {
            if (scored.Score < _options.MinScore)
            {
                break;
            }

            var document = searcher.Doc(scored.Doc);
            hits.Add(new KnowledgeHit(document.Get("source", CultureInfo.InvariantCulture), document.Get("heading", CultureInfo.InvariantCulture) ?? "", document.Get("text", CultureInfo.InvariantCulture), scored.Score));
        }

        return hits;
    }

    /// <summary>The documents in the index, by source.</summary>
    public IReadOnlyList<KnowledgeSource> List()
    {
        if (Searcher() is not { } searcher)
        {
            return [];
        }

        var reader = searcher.IndexReader;
        var live = MultiFields.GetLiveDocs(reader);
        var sources = new Dictionary<string, KnowledgeSource>(StringComparer.Ordinal);
        for (var i = 0; i < reader.MaxDoc; i++)
        {
            if (live is not null && !live.Get(i))
            {
                continue;
            }

            var document = reader.Document(i);
            var source = document.Get("source", CultureInfo.InvariantCulture);
            sources[source] = sources.TryGetValue(source, out var known)
                ? known with { Passages = known.Passages + 1 }
                : new KnowledgeSource(source, 1, document.Get("hash", CultureInfo.InvariantCulture), DateTimeOffset.FromUnixTimeMilliseconds(document.GetField("added").GetInt64Value() ?? 0));
        }

        return [.. sources.Values.OrderBy(s => s.Source, StringComparer.Ordinal)];
    }

    /// <summary>Opens a writer for a batch of changes; they are visible to searches once it commits.</summary>
    public KnowledgeWriter OpenWriter()
    {
        System.IO.Directory.CreateDirectory(Path);
        var known = List().ToDictionary(s => s.Source, s => s.Hash, StringComparer.Ordinal);
        var config = new IndexWriterConfig(Version, _analyzer.Value) { Similarity = new BM25Similarity(), OpenMode = OpenMode.CREATE_OR_APPEND };
        return new KnowledgeWriter(this, new IndexWriter(Directory(), config), known);
    }

    /// <summary>The words SmartCn finds in a text (stop words and punctuation dropped).</summary>
    internal List<string> Terms(string text)
    {
        var terms = new List<string>();
        using var stream = _analyzer.Value.GetTokenStream("text", text);
        var term = stream.AddAttribute<ICharTermAttribute>();
        stream.Reset();
        while (stream.IncrementToken())
        {
            terms.Add(term.ToString());
        }

        stream.End();
        return terms;
    }

    public void Dispose()
    {
        _reader?.Dispose();
        _directory?.Dispose();
        if (_analyzer.IsValueCreated)
        {
            _analyzer.Value.Dispose();
        }
    }

    private LuceneDirectory Directory()
    {
        lock (_gate)
        {
            return _directory ??= FSDirectory.Open(Path);
        }
    }

    private IndexSearcher? Searcher()
    {
        if (!System.IO.Directory.Exists(Path))
        {
            return null;
        }

        lock (_gate)
        {
            try
            {
                if (_reader is null)
                {
                    if (!DirectoryReader.IndexExists(Directory()))
                    {
                        return null;
                    }

                    _reader = DirectoryReader.Open(Directory());
                }
                else if (DirectoryReader.OpenIfChanged(_reader) is { } newer)
                {
                    // Searches still running on the old reader finish on it; Lucene closes files when they end.
                    _reader.DecRef();
                    _reader = newer;
                }
            }
            catch (IOException ex)
            {
                Log.SearchFailed(_logger, ex);
                return _reader is null ? null : new IndexSearcher(_reader) { Similarity = new BM25Similarity() };
            }

            return new IndexSearcher(_reader) { Similarity = new BM25Similarity() };
        }
    }

    internal DateTimeOffset Now => _time.GetUtcNow();

    internal int PassageLength => _options.PassageLength;

    internal ILogger Logger => _logger;

    internal static string Hash(byte[] content) => Convert.ToHexStringLower(SHA256.HashData(content));

    internal static partial class Log
    {
        [LoggerMessage(WeSeekEventId.KnowledgeIndexed, LogLevel.Information, "Knowledge base: {Source} {Outcome} ({Passages} passages)")]
        public static partial void Indexed(ILogger logger, string source, IngestOutcome outcome, int passages);

        [LoggerMessage(WeSeekEventId.KnowledgeRemoved, LogLevel.Information, "Knowledge base: {Source} removed")]
        public static partial void Removed(ILogger logger, string source);

        [LoggerMessage(WeSeekEventId.KnowledgeSearchFailed, LogLevel.Warning, "Knowledge base: could not open the latest index; searching the one open")]
        public static partial void SearchFailed(ILogger logger, Exception exception);

        [LoggerMessage(WeSeekEventId.KnowledgeUnreadable, LogLevel.Warning, "Knowledge base: {Source} skipped, {Reason}")]
        public static partial void Unreadable(ILogger logger, string source, string reason);
    }
}

/// <summary>A batch of changes to the knowledge base; commit, then dispose. Not thread-safe.</summary>
internal sealed class KnowledgeWriter : IDisposable
{
    private readonly KnowledgeIndex _index;
    private readonly IndexWriter _writer;
    private readonly Dictionary<string, string> _known;

    internal KnowledgeWriter(KnowledgeIndex index, IndexWriter writer, Dictionary<string, string> known)
    {
        _index = index;
        _writer = writer;
        _known = known;
    }

    /// <summary>Adds a document under a source name, replacing that source's passages when its content changed.</summary>
    public (IngestOutcome Outcome, int Passages) Add(string source, string path, byte[] content)
    {
        var hash = KnowledgeIndex.Hash(content);
        if (_known.TryGetValue(source, out var known) && known == hash)
        {
            return (IngestOutcome.Unchanged, 0);
        }

        string text;
        try
        {
            text = DocumentReader.Read(path, content);
        }
        catch (InvalidDataException ex)
        {
            KnowledgeIndex.Log.Unreadable(_index.Logger, source, ex.Message);
            return (IngestOutcome.Unreadable, 0);
        }

        var chunks = KnowledgeChunker.Split(text, _index.PassageLength);
        var replaced = _known.ContainsKey(source);
        _writer.DeleteDocuments(new Term("source", source));
        var added = _index.Now.ToUnixTimeMilliseconds();
        foreach (var chunk in chunks)
        {
            _writer.AddDocument(new Document
            {
                new StringField("source", source, Field.Store.YES),
                new StringField("hash", hash, Field.Store.YES),
                new Int64Field("added", added, Field.Store.YES),
                new TextField("heading", chunk.Heading, Field.Store.YES),
                new TextField("text", chunk.Text, Field.Store.YES),
            });
        }

        _known[source] = hash;
        var outcome = chunks.Count == 0 ? IngestOutcome.Empty : replaced ? IngestOutcome.Replaced : IngestOutcome.Added;
        KnowledgeIndex.Log.Indexed(_index.Logger, source, outcome, chunks.Count);
        return (outcome, chunks.Count);
    }

    /// <summary>Removes a source's passages; false when the source is not in the index.</summary>
    public bool Remove(string source)
    {
        if (!_known.Remove(source))
        {
            return false;
        }

        _writer.DeleteDocuments(new Term("source", source));
        KnowledgeIndex.Log.Removed(_index.Logger, source);
        return true;
    }

    public void Commit() => _writer.Commit();

    public void Dispose() => _writer.Dispose();
}
