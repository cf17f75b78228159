using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using WeSeek.Messaging;

namespace WeSeek.Channels.OneBot;

/// <summary>A OneBot 12 <c>message</c> event, mapped: the inbound message and who to quote when answering it.</summary>
/// <param name="Message">What goes into the inbox.</param>
/// <param name="MessageId">The event's <c>message_id</c>.</param>
/// <param name="UserId">The sender's <c>user_id</c>.</param>
internal sealed record OneBotInbound(InboundMessage Message, string MessageId, string UserId);

/// <summary>Conversions between OneBot 12 JSON (events, segments, actions) and WeSeek's messages.</summary>
internal static class OneBotMessageMapper
{
    /// <summary>A string field; OneBot 12 ids are strings, but an implementation that sends a number is read too.</summary>
    public static string? Str(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v)
            ? v.ValueKind switch { JsonValueKind.String => v.GetString(), JsonValueKind.Number => v.GetRawText(), _ => null }
            : null;

    /// <summary>Maps a <c>message.private</c> or <c>message.group</c> event; null when it is malformed or
    /// another detail type. A group message is a question (<see cref="MessageKind.Text"/>) when it mentions
    /// <paramref name="selfId"/> (the mention is removed), starts with <paramref name="prefix"/> (removed), or
    /// contains one of <paramref name="keywords"/> (kept); otherwise it is stored as <see cref="MessageKind.Other"/>:
    /// never answered, but part of the group's recent messages that a later question sees.</summary>
    public static OneBotInbound? ToInbound(ChannelId channel, JsonElement e, string? selfId, string prefix, DateTimeOffset now, IEnumerable<string>? keywords = null)
    {
        var detail = Str(e, "detail_type");
        var messageId = Str(e, "message_id");
        var userId = Str(e, "user_id");
        if (detail is not ("private" or "group") || string.IsNullOrEmpty(messageId) || string.IsNullOrEmpty(userId))
        {
            return null;
        }

        var groupId = Str(e, "group_id");
        var isGroup = detail == "group";
        if (isGroup && string.IsNullOrEmpty(groupId))
        {
            return null;
        }

        var text = new StringBuilder();
        var attachments = new List<MediaAttachment>();
        var mentioned = false;
        if (e.TryGetProperty("message", out var segments) && segments.ValueKind == JsonValueKind.Array)
        {
            foreach (var segment in segments.EnumerateArray())
            {
                var data = segment.TryGetProperty("data", out var d) ? d : default;
                switch (Str(segment, "type"))
                {
                    case "text":
                        text.Append(Str(data, "text"));
                        break;
                    case "mention" when Str(data, "user_id") is { } who && who == selfId:
                        // The mention of the bot is the trigger, not part of the question.
                        mentioned = true;
                        break;
                    case "mention":
                        text.Append('@').Append(Str(data, "user_id"));
                        break;
                    case "mention_all":
                        text.Append("@所有人");
                        break;
                    case "image":
                        attachments.Add(new MediaAttachment(MessageKind.Image, Str(data, "file_id"), Str(data, "url")));
                        text.Append("[图片]");
                        break;
                    case "reply":
                        // The quoted message is not repeated; its id is not useful to the model.
                        break;
                    default:
                        break;
                }
            }
        }
        else if (Str(e, "alt_message") is { } alt)
        {
            text.Append(alt);
        }

        var body = text.ToString().Trim();
        var kind = body.Length == 0 ? MessageKind.Other : attachments.Count > 0 && body == string.Concat(Enumerable.Repeat("[图片]", attachments.Count)) ? MessageKind.Image : MessageKind.Text;
        if (isGroup)
        {
            var prefixed = prefix.Length > 0 && body.StartsWith(prefix, StringComparison.OrdinalIgnoreCase);
            if (prefixed)
            {
                body = body[prefix.Length..].Trim();
            }

            var keyword = !mentioned && !prefixed && keywords is not null
                && keywords.Any(k => !string.IsNullOrWhiteSpace(k) && body.Contains(k.Trim(), StringComparison.OrdinalIgnoreCase));
            if (!mentioned && !prefixed && !keyword)
            {
                kind = MessageKind.Other;
            }
            else if (body.Length == 0)
            {
                // "@bot" alone: a question still, answered as a greeting.
                body = "你好";
                kind = MessageKind.Text;
            }
        }

        if (body.Length == 0)
        {
            body = Str(e, "alt_message") ?? "";
        }

        var sentAt = e.TryGetProperty("time", out var t) && t.ValueKind == JsonValueKind.Number
            ? DateTimeOffset.FromUnixTimeMilliseconds((long)(t.GetDouble() * 1000))
            : now;
        var chatId = isGroup ? groupId! : userId;
        var account = selfId ?? "default";
        var inbound = new InboundMessage(channel, account, messageId, chatId, userId, body, sentAt)
        {
            IsGroup = isGroup,
            Kind = kind,
            Attachments = attachments,
        };
        return new OneBotInbound(inbound, messageId, userId);
    }

    /// <summary>The <c>send_message</c> parameters answering in <paramref name="chatId"/>: in a group the first
    /// part quotes the asker's message and mentions the asker.</summary>
    public static JsonObject SendMessageParams(bool isGroup, string chatId, string text, (string MessageId, string UserId)? quote)
    {
        var segments = new JsonArray();
        if (isGroup && quote is { } asker)
        {
            segments.Add(Segment("reply", new JsonObject { ["message_id"] = asker.MessageId, ["user_id"] = asker.UserId }));
            segments.Add(Segment("mention", new JsonObject { ["user_id"] = asker.UserId }));
            text = " " + text;
        }

        segments.Add(Segment("text", new JsonObject { ["text"] = text }));
        var p = new JsonObject { ["detail_type"] = isGroup ? "group" : "private" };
        p[isGroup ? "group_id" : "user_id"] = chatId;
        p["message"] = segments;
        return p;
    }

    private static JsonObject Segment(string type, JsonObject data) => new() { ["type"] = type, ["data"] = data };
}
