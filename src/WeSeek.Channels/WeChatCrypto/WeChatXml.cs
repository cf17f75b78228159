using System.Xml;

namespace WeSeek.Channels.WeChatCrypto;

/// <summary>
/// Reads WeChat's flat callback XML (<c>&lt;xml&gt;&lt;Field&gt;value&lt;/Field&gt;…&lt;/xml&gt;</c>) into a
/// dictionary with System.Xml, DTDs prohibited (no XXE, no entity expansion) and no resolver.
/// </summary>
public static class WeChatXml
{
    private static readonly XmlReaderSettings Settings = new()
    {
        DtdProcessing = DtdProcessing.Prohibit,
        XmlResolver = null,
        IgnoreComments = true,
        IgnoreProcessingInstructions = true,
        // WeChat's messages are a few KiB; this bounds a hostile document even when the body limit is raised.
        MaxCharactersInDocument = 1_000_000,
    };

    /// <summary>Parses the top-level fields; nested elements (<c>&lt;Image&gt;</c>) are flattened by name.</summary>
    /// <exception cref="WeChatCryptoException">Malformed XML or a DTD (−40002).</exception>
    public static Dictionary<string, string> Parse(string xml)
    {
        ArgumentNullException.ThrowIfNull(xml);
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        try
        {
            using var reader = XmlReader.Create(new StringReader(xml), Settings);
            reader.MoveToContent();
            if (reader.NodeType != XmlNodeType.Element)
            {
                throw new WeChatCryptoException(WeChatCryptoError.InvalidXml, "No root element.");
            }

            var rootDepth = reader.Depth;
            string? current = null;
            while (reader.Read())
            {
                switch (reader.NodeType)
                {
                    case XmlNodeType.Element when reader.Depth > rootDepth:
                        current = reader.Name;
                        if (reader.IsEmptyElement)
                        {
                            fields.TryAdd(current, "");
                        }

                        break;
                    case XmlNodeType.Text or XmlNodeType.CDATA when current is not null:
                        fields[current] = fields.TryGetValue(current, out var before) ? before + reader.Value : reader.Value;
                        break;
                    case XmlNodeType.EndElement:
                        current = null;
                        break;
                }
            }
        }
        catch (XmlException ex)
        {
            throw new WeChatCryptoException(WeChatCryptoError.InvalidXml, "Malformed XML: " + ex.Message);
        }

        return fields;
    }
}
