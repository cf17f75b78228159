using WeSeek.Security;
using WeSeek.Storage;

namespace WeSeek.Media;

/// <summary>
/// Image descriptions by the SHA-256 of the image's bytes, in SQLite (table <c>image_descriptions</c>), encrypted
/// like message bodies. The same picture forwarded to many chats, or sent again, is described once. Thread-safe.
/// </summary>
internal sealed class ImageDescriptionCache
{
    private readonly StoreDatabase _database;
    private readonly RecordCipher _cipher;
    private readonly TimeProvider _time;

    public ImageDescriptionCache(StoreDatabase database, RecordCipher cipher, TimeProvider time)
    {
        _database = database;
        _cipher = cipher;
        _time = time;
    }

    /// <summary>The description stored for an image hash, or null.</summary>
    public async Task<string?> FindAsync(string hash, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT description, key_id FROM image_descriptions WHERE hash = @hash;";
        command.AddParameter("@hash", hash);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? _cipher.Read(reader, 0, 1, RecordCipher.ImageDescription(hash)) : null;
    }

    /// <summary>Stores a description; a second writer of the same image keeps the first one's.</summary>
    public async Task StoreAsync(string hash, string description, string model, CancellationToken cancellationToken)
    {
        await using var writer = await _database.OpenWriterAsync(cancellationToken);
        await using var command = writer.Connection.CreateCommand();
        command.CommandText = """
            INSERT INTO image_descriptions (hash, description, key_id, model, created_at) VALUES (@hash, @description, @description_key, @model, @now)
            ON CONFLICT (hash) DO NOTHING;
            """;
        command.AddParameter("@hash", hash);
        _cipher.Bind(command, "@description", description, RecordCipher.ImageDescription(hash));
        command.AddParameter("@model", model);
        command.AddParameter("@now", _time.GetUtcNow().ToUnixTimeMilliseconds());
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
