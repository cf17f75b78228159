using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace WeSeek.Channels.WebChat;

/// <summary>
/// Who is asking, for the web chat: a random 128-bit id in an HttpOnly cookie, made on a browser's first
/// request. Every chat a visitor opens is stored under <c>{visitor}.{chatId}</c>, so the chat list, the
/// history and the event stream only ever reach that visitor's own chats: another visitor's chat cannot even
/// be named (a page's chat id cannot hold the '.'). The <c>{visitor}</c> stored is a SHA-256 of the cookie, not
/// the cookie: chat ids are metadata that the console lists to every key (viewers too) and that anyone holding
/// the database file can read, and the cookie itself would open the visitor's chats through the page. A shared
/// <c>WebChat:Password</c> gates who may visit; it does not make visitors one person.
/// </summary>
internal sealed class WebChatVisitor
{
    public const string CookieName = "weseek_visitor";

    // 400 days: the longest lifetime browsers keep (RFC 6265bis); losing the cookie loses access to the chats.
    private static readonly TimeSpan Lifetime = TimeSpan.FromDays(400);

    private readonly string _stored;

    private WebChatVisitor(string id)
    {
        Id = id;
        // 128 random bits hashed: nothing to guess backwards. The first 128 bits of the hash keep stored ids as
        // long as they were.
        _stored = Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes("weseek.webchat.visitor\n" + id)).AsSpan(0, 16));
    }

    /// <summary>The cookie's value: 32 lower-case hex digits. Never stored.</summary>
    public string Id { get; }

    /// <summary>The stored chat id of the page's <paramref name="chatId"/> (already checked by
    /// <see cref="WebChatMessageMapper.IsValidId"/>).</summary>
    public string Scope(string chatId) => _stored + "." + chatId;

    /// <summary>The page's chat id of a stored one, or null when the chat is not this visitor's.</summary>
    public string? Unscope(string storedChatId) =>
        storedChatId.Length > _stored.Length + 1 && storedChatId.StartsWith(_stored, StringComparison.Ordinal) && storedChatId[_stored.Length] == '.'
            ? storedChatId[(_stored.Length + 1)..]
            : null;

    /// <summary>The prefix every stored chat id of this visitor starts with.</summary>
    public string Prefix => _stored + ".";

    /// <summary>The request's visitor: from the cookie, or a new one whose cookie is set on the response.</summary>
    public static WebChatVisitor Of(HttpContext context)
    {
        if (context.Features.Get<WebChatVisitor>() is { } known)
        {
            return known;
        }

        if (!context.Request.Cookies.TryGetValue(CookieName, out var id) || !IsValid(id))
        {
            id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
            context.Response.Cookies.Append(CookieName, id, new CookieOptions
            {
                HttpOnly = true,
                // Lax, not Strict: a link to the page from elsewhere must find the same visitor, and Lax still
                // keeps the cookie off cross-site POSTs and subresource requests.
                SameSite = SameSiteMode.Lax,
                Secure = context.Request.IsHttps,
                MaxAge = Lifetime,
                Path = "/",
                IsEssential = true,
            });
        }

        var visitor = new WebChatVisitor(id);
        context.Features.Set(visitor);
        return visitor;
    }

    private static bool IsValid(string id) => id.Length == 32 && id.All(char.IsAsciiHexDigitLower);
}
