using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.AI;
using OpenAI.Chat;

namespace WeSeek.Inference.Remote;

/// <summary>
/// Sends the conversation as the request's <c>user</c> field, so a server that keeps KV caches per
/// conversation (<c>weseek model serve</c>, or a router in front of replicas) can find this one's. The key is
/// hashed: it contains the chat's WeChat ids, which must not leave the machine.
/// </summary>
internal sealed class ConversationAffinityChatClient(IChatClient innerClient) : DelegatingChatClient(innerClient)
{
    public override Task<ChatResponse> GetResponseAsync(IEnumerable<Microsoft.Extensions.AI.ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
        base.GetResponseAsync(messages, WithUser(options), cancellationToken);

    public override IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<Microsoft.Extensions.AI.ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
        base.GetStreamingResponseAsync(messages, WithUser(options), cancellationToken);

    /// <summary>The pseudonym a conversation key is sent as: 16 bytes of its SHA-256, hex.</summary>
    internal static string Pseudonym(string conversationKey) =>
        "c-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(conversationKey)).AsSpan(0, 16));

    private static ChatOptions? WithUser(ChatOptions? options)
    {
        if (options?.ConversationId is not { Length: > 0 } key)
        {
            return options;
        }

        var copy = options.Clone();
        // The chat-completions API has no conversation; the id would otherwise be dropped or misread.
        copy.ConversationId = null;
        var previous = options.RawRepresentationFactory;
        copy.RawRepresentationFactory = client =>
        {
            var raw = previous?.Invoke(client) as ChatCompletionOptions ?? new ChatCompletionOptions();
            raw.EndUserId = Pseudonym(key);
            return raw;
        };
        return copy;
    }
}
