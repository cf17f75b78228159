using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using WeSeek.Messaging;

namespace WeSeek.Channels.ILink;

/// <summary>The latest <c>context_token</c> of a chat: when it came and how many messages went out with it.</summary>
internal sealed record ILinkChatContext(string Token, long ReceivedAtMs, int Sent);

/// <summary>
/// What one iLink account keeps in the <see cref="IChannelStateStore"/>: the login (token, API host, bot id),
/// the <c>get_updates_buf</c> cursor, a per-install salt for client ids, and the latest context per chat.
/// </summary>
internal sealed class ILinkState
{
    private const string TokenKey = "bot_token";
    private const string PreviousTokenKey = "previous_token";
    private const string BaseUrlKey = "base_url";
    private const string BotIdKey = "bot_id";
    private const string UserIdKey = "user_id";
    private const string CursorKey = "cursor";
    private const string SaltKey = "client_salt";

    private readonly IChannelStateStore _store;

    public ILinkState(IChannelStateStore store, ChannelId channel)
    {
        _store = store;
        Channel = channel;
    }

    public ChannelId Channel { get; }

    /// <summary>The logged-in session, or null before login and after the session expired.</summary>
    public async Task<ILinkSession?> GetSessionAsync(Uri defaultBaseUrl, CancellationToken cancellationToken)
    {
        if (await _store.GetAsync(Channel, TokenKey, cancellationToken) is not { Length: > 0 } token)
        {
            return null;
        }

        var baseUrl = await _store.GetAsync(Channel, BaseUrlKey, cancellationToken);
        return new ILinkSession(token, Uri.TryCreate(baseUrl, UriKind.Absolute, out var url) ? WithSlash(url) : defaultBaseUrl);
    }

    /// <summary>Tokens this install was issued, newest first (for <c>local_token_list</c>).</summary>
    public async Task<IReadOnlyList<string>> GetKnownTokensAsync(CancellationToken cancellationToken)
    {
        var tokens = new List<string>();
        foreach (var key in new[] { TokenKey, PreviousTokenKey })
        {
            if (await _store.GetAsync(Channel, key, cancellationToken) is { Length: > 0 } token && !tokens.Contains(token))
            {
                tokens.Add(token);
            }
        }

        return tokens;
    }

    /// <summary>Stores a confirmed login. A different bot starts from an empty cursor.</summary>
    public async Task SaveLoginAsync(string token, Uri baseUrl, string botId, string? userId, CancellationToken cancellationToken)
    {
        if (await _store.GetAsync(Channel, BotIdKey, cancellationToken) is { } previous && previous != botId)
        {
            await _store.SetAsync(Channel, CursorKey, null, cancellationToken);
        }

        await _store.SetAsync(Channel, BaseUrlKey, WithSlash(baseUrl).ToString(), cancellationToken);
        await _store.SetAsync(Channel, BotIdKey, botId, cancellationToken);
        await _store.SetAsync(Channel, UserIdKey, userId, cancellationToken);
        // The token last: a poller that sees it sees the rest.
        await _store.SetAsync(Channel, TokenKey, token, cancellationToken);
    }

    /// <summary>Forgets an expired token (keeping it for <c>local_token_list</c>), unless a new login replaced it.</summary>
    public async Task ExpireAsync(string token, CancellationToken cancellationToken)
    {
        if (await _store.GetAsync(Channel, TokenKey, cancellationToken) == token)
        {
            await _store.SetAsync(Channel, PreviousTokenKey, token, cancellationToken);
            await _store.SetAsync(Channel, TokenKey, null, cancellationToken);
        }
    }

    public async Task<string> GetCursorAsync(CancellationToken cancellationToken) =>
        await _store.GetAsync(Channel, CursorKey, cancellationToken) ?? "";

    public ValueTask SetCursorAsync(string cursor, CancellationToken cancellationToken) =>
        _store.SetAsync(Channel, CursorKey, cursor, cancellationToken);

    /// <summary>A random salt made once per store, so client ids stay unique after the database is replaced
    /// and outbox ids start again from 1.</summary>
    public async Task<string> GetClientSaltAsync(CancellationToken cancellationToken)
    {
        if (await _store.GetAsync(Channel, SaltKey, cancellationToken) is { Length: > 0 } salt)
        {
            return salt;
        }

        salt = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        await _store.SetAsync(Channel, SaltKey, salt, cancellationToken);
        return salt;
    }

    public async Task<ILinkChatContext?> GetContextAsync(string chatId, CancellationToken cancellationToken) =>
        await _store.GetAsync(Channel, ContextKey(chatId), cancellationToken) is { } json
            ? JsonSerializer.Deserialize<ILinkChatContext>(json)
            : null;

    public ValueTask SetContextAsync(string chatId, ILinkChatContext context, CancellationToken cancellationToken) =>
        _store.SetAsync(Channel, ContextKey(chatId), JsonSerializer.Serialize(context), cancellationToken);

    /// <summary>The lease name of a bot token: one poller per token, whatever the account is called.</summary>
    public static string LeaseName(string token) =>
        "ilink:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)))[..32];

    private static string ContextKey(string chatId) => "ctx:" + chatId;

    private static Uri WithSlash(Uri url) => url.AbsoluteUri.EndsWith('/') ? url : new Uri(url.AbsoluteUri + "/");
}
