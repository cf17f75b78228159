using System.Text.Json;
using WeSeek.Inference.Llama.Engine;

namespace WeSeek.Inference.Llama.Tests.Engine;

public sealed class JsonSchemaGrammarTests
{
    [Fact]
    public void FromSchema_UnsupportedKeyword_IsRefusedByName()
    {
        using var schema = JsonDocument.Parse("""{"type":"object","properties":{"a":{"$ref":"#/defs/x"}}}""");

        var error = Assert.Throws<ArgumentException>(() => JsonSchemaGrammar.FromSchema(schema.RootElement));

        Assert.Contains("$ref", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromSchema_EnumOfStrings_BecomesLiteralAlternatives()
    {
        using var schema = JsonDocument.Parse("""{"enum":["天气","a\"b"]}""");

        var grammar = JsonSchemaGrammar.FromSchema(schema.RootElement);

        Assert.StartsWith("root ::= (\"\\\"天气\\\"\" | \"\\\"a\\\\\\\"b\\\"\")", grammar, StringComparison.Ordinal);
    }
}
