using System.Globalization;
using WeSeek.Messaging;

namespace WeSeek.Channels.ILink;

/// <summary>iLink's <c>WeixinMessage</c> to WeSeek's <see cref="InboundMessage"/>. Static and pure.</summary>
internal static class ILinkMessageMapper
{
    /// <summary>The inbound message, or null for what is not a user's message to the bot (the bot's own
    /// messages echoed back, messages without a sender or an id).</summary>
    public static InboundMessage? ToInbound(ChannelId channel, string account, ILinkMessage m)
    {
        if (m.MessageType == 2 || string.IsNullOrEmpty(m.FromUserId) || m.FromUserId.Length > 256)
        {
            return null;
        }

        // Duplicates are known by iLink's message id; seq or the client id stand in when it is absent.
        var externalId = m.MessageId is { } id ? id.ToString(CultureInfo.InvariantCulture)
            : m.Seq is { } seq ? "seq:" + seq.ToString(CultureInfo.InvariantCulture)
            : string.IsNullOrEmpty(m.ClientId) ? null : "client:" + m.ClientId;
        if (externalId is null)
        {
            return null;
        }

        var (kind, text) = Render(m.ItemList ?? []);
        if (!string.IsNullOrEmpty(m.GroupId))
        {
            // iLink is direct-message only (anchors.md); a group message, should one come, is kept, not answered.
            kind = MessageKind.Other;
        }

        var sentAt = m.CreateTimeMs is { } ms ? DateTimeOffset.FromUnixTimeMilliseconds(Math.Clamp(ms, 0, 253_402_300_799_999L)) : DateTimeOffset.UnixEpoch;
        return new InboundMessage(channel, account, externalId, m.FromUserId, m.FromUserId, text, sentAt) { Kind = kind };
    }

    private static (MessageKind Kind, string Text) Render(List<ILinkItem> items)
    {
        var texts = new List<string>();
        var kind = MessageKind.Other;
        foreach (var item in items)
        {
            switch (item.Type)
            {
                case ILinkItemType.Text when !string.IsNullOrEmpty(item.TextItem?.Text):
                    texts.Add(item.TextItem.Text);
                    kind = MessageKind.Text;
                    break;
                // WeChat transcribes voice itself; without a transcript there is nothing to answer.
                case ILinkItemType.Voice when !string.IsNullOrEmpty(item.VoiceItem?.Text):
                    texts.Add(item.VoiceItem.Text);
                    kind = kind == MessageKind.Text ? kind : MessageKind.Voice;
                    break;
                case ILinkItemType.Voice:
                    texts.Add("[语音]");
                    break;
                case ILinkItemType.Image:
                    texts.Add("[图片]");
                    break;
                case ILinkItemType.File:
                    texts.Add(("[文件] " + item.FileItem?.FileName).TrimEnd());
                    break;
                case ILinkItemType.Video:
                    texts.Add("[视频]");
                    break;
            }
        }

        return (kind, texts.Count == 0 ? "[消息]" : string.Join('\n', texts));
    }
}
