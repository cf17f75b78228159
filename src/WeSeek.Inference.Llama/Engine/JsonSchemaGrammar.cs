using System.Globalization;
using System.Text;
using System.Text.Json;

namespace WeSeek.Inference.Llama.Engine;

/// <summary>
/// Turns a JSON schema into a GBNF grammar for llama.cpp's grammar sampler, so structured output (the
/// intent recogniser's JSON) is valid by construction. Hand-written: llama.cpp's converter lives in its
/// <c>common</c> library, which LLamaSharp does not ship, and no .NET package does it.
/// <para>
/// Supported: <c>type</c> object (properties; every property is produced, which is valid for the schema —
/// a grammar for every subset of optional ones grows exponentially), array (<c>items</c>), string,
/// number, integer, boolean, null; <c>enum</c> and <c>const</c> of any JSON values; <c>anyOf</c>/<c>oneOf</c>.
/// Anything else is refused with a message naming the keyword. Strings, numbers and arrays are bounded in
/// length so that a generation always ends.
/// </para>
/// </summary>
internal static class JsonSchemaGrammar
{
    /// <summary>Most characters of a free string value: long enough for a slot or a sentence.</summary>
    public const int MaxStringLength = 200;

    private static readonly string[] Supported = ["type", "properties", "required", "items", "enum", "const", "anyOf", "oneOf", "description", "title", "additionalProperties", "$schema", "default", "minItems", "maxItems", "format"];

    private const string Primitives = """
        ws ::= [ \t\n]{0,4}
        string ::= "\"" char{0,200} "\""
        char ::= [^"\\\x00-\x1f] | "\\" (["\\/bfnrt] | "u" [0-9a-fA-F]{4})
        number ::= "-"? [0-9]{1,12} ("." [0-9]{1,6})? ([eE] [-+]? [0-9]{1,3})?
        integer ::= "-"? [0-9]{1,12}
        boolean ::= "true" | "false"
        null ::= "null"
        value ::= object | array | string | number | boolean | null
        object ::= "{" ws (string ws ":" ws value ws ("," ws string ws ":" ws value ws){0,15})? "}"
        array ::= "[" ws (value ws ("," ws value ws){0,15})? "]"
        """;

    /// <summary>A grammar for any JSON object (when no schema is given).</summary>
    public static string AnyObject => "root ::= object\n" + Primitives;

    /// <summary>A grammar for values of <paramref name="schema"/>.</summary>
    /// <exception cref="ArgumentException">The schema uses a keyword this converter does not support.</exception>
    public static string FromSchema(JsonElement schema)
    {
        var rules = new List<string>();
        var root = Rule(schema, "root-value", rules);
        var grammar = new StringBuilder();
        grammar.Append("root ::= ").AppendLine(root);
        foreach (var rule in rules)
        {
            grammar.AppendLine(rule);
        }

        return grammar.Append(Primitives).ToString();
    }

    /// <summary>Returns a GBNF expression for <paramref name="schema"/>, adding named rules as needed.</summary>
    private static string Rule(JsonElement schema, string name, List<string> rules)
    {
        if (schema.ValueKind == JsonValueKind.True)
        {
            return "value";
        }

        if (schema.ValueKind != JsonValueKind.Object)
        {
            throw new ArgumentException($"Schema at '{name}' must be an object.");
        }

        foreach (var property in schema.EnumerateObject())
        {
            if (!Supported.Contains(property.Name, StringComparer.Ordinal))
            {
                throw new ArgumentException($"JSON schema keyword '{property.Name}' (at '{name}') is not supported by the grammar converter. Supported: {string.Join(", ", Supported)}.");
            }
        }

        if (schema.TryGetProperty("const", out var constant))
        {
            return Literal(constant.GetRawText());
        }

        if (schema.TryGetProperty("enum", out var values))
        {
            return "(" + string.Join(" | ", values.EnumerateArray().Select(v => Literal(v.GetRawText()))) + ")";
        }

        if (schema.TryGetProperty("anyOf", out var anyOf) || schema.TryGetProperty("oneOf", out anyOf))
        {
            return "(" + string.Join(" | ", anyOf.EnumerateArray().Select((s, i) => Rule(s, $"{name}-{i}", rules))) + ")";
        }

        var type = schema.TryGetProperty("type", out var t) ? t : default;
        if (type.ValueKind == JsonValueKind.Array)
        {
            return "(" + string.Join(" | ", type.EnumerateArray().Select(x => TypeRule(schema, x.GetString()!, name, rules))) + ")";
        }

        return TypeRule(schema, type.ValueKind == JsonValueKind.String ? type.GetString()! : "any", name, rules);
    }

    private static string TypeRule(JsonElement schema, string type, string name, List<string> rules)
    {
        switch (type)
        {
            case "string":
                return "string";
            case "number":
                return "number";
            case "integer":
                return "integer";
            case "boolean":
                return "boolean";
            case "null":
                return "null";
            case "any":
                return "value";
            case "array":
                var item = schema.TryGetProperty("items", out var items) ? Rule(items, name + "-item", rules) : "value";
                var ruleName = Name(name);
                rules.Add($"{ruleName} ::= \"[\" ws ({item} ws (\",\" ws {item} ws){{0,15}})? \"]\"");
                return ruleName;
            case "object":
                if (!schema.TryGetProperty("properties", out var properties) || !properties.EnumerateObject().Any())
                {
                    return "object";
                }

                var parts = properties.EnumerateObject()
                    .Select(p => $"{Literal(JsonSerializer.Serialize(p.Name))} ws \":\" ws {Rule(p.Value, name + "-" + p.Name, rules)}")
                    .ToList();
                var objectName = Name(name);
                rules.Add($"{objectName} ::= \"{{\" ws {string.Join(" ws \",\" ws ", parts)} ws \"}}\"");
                return objectName;
            default:
                throw new ArgumentException($"JSON schema type '{type}' (at '{name}') is not supported.");
        }
    }

    /// <summary>A GBNF rule name: lower-case letters, digits and dashes.</summary>
    private static string Name(string path)
    {
        var name = new StringBuilder();
        foreach (var c in path.ToLowerInvariant())
        {
            name.Append(c is (>= 'a' and <= 'z') or (>= '0' and <= '9') ? c : '-');
        }

        return name.ToString();
    }

    /// <summary>A GBNF string literal matching <paramref name="text"/> exactly.</summary>
    private static string Literal(string text)
    {
        var literal = new StringBuilder("\"");
        foreach (var c in text)
        {
            literal.Append(c switch
            {
                '"' => "\\\"",
                '\\' => "\\\\",
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                _ => c.ToString(CultureInfo.InvariantCulture),
            });
        }

        return literal.Append('"').ToString();
    }
}
