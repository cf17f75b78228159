using Microsoft.Extensions.DependencyInjection;
using WeSeek.Inbox;
using WeSeek.Security;
using WeSeek.TestKit;

namespace WeSeek.Tests.Storage;

/// <summary>What a test reads back from the store, through the store's own interfaces rather than SQL against one
/// engine's tables.</summary>
internal static class StoreReads
{
    /// <summary>Every stored message and reply, in order (each message, then its replies), decrypted.</summary>
    public static async Task<IReadOnlyList<TranscriptLine>> TranscriptAsync(this CoreHarness core)
    {
        var lines = new List<TranscriptLine>();
        await foreach (var line in core.Services.GetRequiredService<IInboxStore>().ReadTranscriptAsync(null, decrypt: true, CancellationToken.None))
        {
            lines.Add(line);
        }

        return lines;
    }
}
