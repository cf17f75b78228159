using System.Globalization;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using Markdig;
using Markdig.Extensions.Tables;
using Markdig.Syntax;
using Markdig.Syntax.Inlines;

namespace WeSeek.Replies;

/// <summary>Plain text and the character ranges that must not be split (code blocks).</summary>
/// <param name="Text">The flattened text.</param>
/// <param name="Unbreakable">Ranges of <paramref name="Text"/> a splitter should keep whole when it can.</param>
internal sealed record FlatText(string Text, IReadOnlyList<Range> Unbreakable);

/// <summary>
/// Turns the model's Markdown into text a WeChat chat shows well: WeChat renders no Markdown, so <c>**bold**</c>,
/// <c>### heading</c> and table pipes would arrive as noise. Headings become 【…】, list items keep a bullet or
/// their number, links become "text (url)", tables become rows of cells, code blocks keep their lines as is
/// (and are marked unbreakable for the splitter). Parsing is Markdig's (CommonMark with pipe tables); only
/// the rendering to WeChat text is written here, because no renderer for chat-app plain text exists.
/// </summary>
internal static partial class MarkdownFlattener
{
    private static readonly MarkdownPipeline Pipeline = new MarkdownPipelineBuilder().UsePipeTables().Build();

    public static FlatText Flatten(string markdown)
    {
        ArgumentNullException.ThrowIfNull(markdown);
        var document = Markdown.Parse(markdown, Pipeline);
        var writer = new Writer();
        foreach (var block in document)
        {
            writer.Block(block, indent: "");
        }

        return writer.Finish();
    }

    [GeneratedRegex("<[^>]+>")]
    private static partial Regex Tag();

    private sealed class Writer
    {
        private readonly StringBuilder _text = new();
        private readonly List<Range> _unbreakable = [];

        public FlatText Finish() => new(_text.ToString().TrimEnd(), _unbreakable);

        public void Block(Block block, string indent)
        {
            switch (block)
            {
                case HeadingBlock heading:
                    Paragraph(indent + "【" + Inlines(heading.Inline).Trim() + "】");
                    break;
                case ParagraphBlock paragraph:
                    Paragraph(Indent(Inlines(paragraph.Inline).Trim(), indent));
                    break;
                case CodeBlock code:
                    Code(code, indent);
                    break;
                case ListBlock list:
                    List(list, indent);
                    break;
                case QuoteBlock quote:
                    var inner = new Writer();
                    foreach (var child in quote)
                    {
                        inner.Block(child, "");
                    }

                    Paragraph(Indent(inner.Finish().Text, indent + "｜ "));
                    break;
                case Table table:
                    Table(table, indent);
                    break;
                case ThematicBreakBlock:
                    Paragraph(indent + "——————");
                    break;
                case HtmlBlock html:
                    var stripped = WebUtility.HtmlDecode(Tag().Replace(html.Lines.ToString(), "")).Trim();
                    if (stripped.Length > 0)
                    {
                        Paragraph(Indent(stripped, indent));
                    }

                    break;
                case ContainerBlock container:
                    foreach (var child in container)
                    {
                        Block(child, indent);
                    }

                    break;
                case LeafBlock leaf when leaf.Inline is not null:
                    Paragraph(Indent(Inlines(leaf.Inline).Trim(), indent));
                    break;
            }
        }

        private void Paragraph(string text)
        {
            if (text.Length == 0)
            {
                return;
            }

            Separate();
            _text.Append(text).Append('\n');
        }

        private void Separate()
        {
            if (_text.Length > 0)
            {
                _text.Append('\n');
            }
        }

        private void Code(CodeBlock code, string indent)
        {
            var lines = code.Lines.Lines.Take(code.Lines.Count).Select(l => indent + l.ToString().TrimEnd());
            var body = string.Join('\n', lines).Trim('\n');
            if (body.Length == 0)
            {
                return;
            }

            Separate();
            var start = _text.Length;
            _text.Append(body);
            _unbreakable.Add(new Range(start, _text.Length));
            _text.Append('\n');
        }

        private void List(ListBlock list, string indent)
        {
            var number = list.IsOrdered && int.TryParse(list.OrderedStart, NumberStyles.Integer, CultureInfo.InvariantCulture, out var first) ? first : 1;
            var items = new StringBuilder();
            foreach (var item in list.OfType<ListItemBlock>())
            {
                var marker = list.IsOrdered ? number++.ToString(CultureInfo.InvariantCulture) + ". " : "• ";
                var inner = new Writer();
                foreach (var child in item)
                {
                    inner.Block(child, "");
                }

                // A tight list: item paragraphs on consecutive lines; nested lists indented under their item.
                var lines = inner.Finish().Text.Split('\n').Where(l => l.Length > 0).ToList();
                for (var i = 0; i < lines.Count; i++)
                {
                    items.Append(indent).Append(i == 0 ? marker : new string(' ', 2)).Append(lines[i]).Append('\n');
                }
            }

            Paragraph(items.ToString().TrimEnd('\n'));
        }

        private void Table(Table table, string indent)
        {
            var rows = new List<string>();
            foreach (var row in table.OfType<TableRow>())
            {
                var cells = row.OfType<TableCell>().Select(cell => string.Join(" ", cell.OfType<LeafBlock>().Select(l => Inlines(l.Inline).Trim())));
                rows.Add(indent + string.Join(" | ", cells));
            }

            Paragraph(string.Join('\n', rows));
        }

        private static string Indent(string text, string indent) =>
            indent.Length == 0 ? text : string.Join('\n', text.Split('\n').Select(l => indent + l));

        private static string Inlines(ContainerInline? container)
        {
            var text = new StringBuilder();
            if (container is not null)
            {
                Inline(container, text);
            }

            return text.ToString();
        }

        private static void Inline(Inline inline, StringBuilder text)
        {
            switch (inline)
            {
                case LiteralInline literal:
                    text.Append(literal.Content.ToString());
                    break;
                case CodeInline code:
                    text.Append(code.Content);
                    break;
                case LineBreakInline:
                    text.Append('\n');
                    break;
                case AutolinkInline autolink:
                    text.Append(autolink.Url);
                    break;
                case HtmlEntityInline entity:
                    text.Append(entity.Transcoded.ToString());
                    break;
                case HtmlInline:
                    // A tag alone (<br>, <b>): WeChat would show it literally.
                    break;
                case LinkInline link:
                    var label = new StringBuilder();
                    foreach (var child in link)
                    {
                        Inline(child, label);
                    }

                    var url = link.GetDynamicUrl?.Invoke() ?? link.Url ?? "";
                    if (link.IsImage)
                    {
                        text.Append("[图片").Append(label.Length > 0 ? "：" + label : "").Append("] ").Append(url);
                    }
                    else if (url.Length == 0 || label.ToString() == url)
                    {
                        text.Append(label.Length > 0 ? label : url);
                    }
                    else
                    {
                        text.Append(label).Append(" (").Append(url).Append(')');
                    }

                    break;
                case ContainerInline container:
                    foreach (var child in container)
                    {
                        Inline(child, text);
                    }

                    break;
            }
        }
    }
}
