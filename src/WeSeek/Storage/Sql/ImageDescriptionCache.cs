using WeSeek.Media;
using WeSeek.Security;

namespace WeSeek.Storage.Sql;

/// <summary><see cref="IImageDescriptionStore"/> in the table <c>image_descriptions</c>. Thread-safe.</summary>
internal sealed class ImageDescriptionCache : IImageDescriptionStore
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

    public async Task<string?> FindAsync(string hash, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT description, key_id FROM image_descriptions WHERE hash = @hash;";
        command.AddParameter("@hash", hash);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? _cipher.Read(reader, 0, 1, RecordCipher.ImageDescription(hash)) : null;
    }

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
