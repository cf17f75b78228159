using WeSeek.Inference.Llama.Models;
using WeSeek.TestKit;

namespace WeSeek.Host.Tests.Cli;

/// <summary>Every name a model verb takes stays inside the models directory: no sibling with a common prefix, no
/// <c>..</c>, no symbolic link out.</summary>
public sealed class ModelPathContainmentTests
{
    [Fact]
    public async Task ModelRm_SiblingFolderThroughDotDot_RefusedAndTheFileStays()
    {
        // The reported attack: data/models-backup starts with "data/models", which a prefix check took for inside.
        using var data = new TempDirectory();
        Directory.CreateDirectory(Path.Combine(data.Path, "models"));
        var backup = Directory.CreateDirectory(Path.Combine(data.Path, "models-backup")).FullName;
        var keep = Path.Combine(backup, "keep.gguf");
        await File.WriteAllTextAsync(keep, "precious", TestContext.Current.CancellationToken);

        var rm = await WeseekProcess.RunAsync(["model", "rm", "../models-backup/keep", $"--Storage:DataDirectory={data.Path}"]);

        Assert.NotEqual(0, rm.ExitCode);
        Assert.True(File.Exists(keep));
    }

    [Theory]
    [InlineData("../models-backup/keep")]
    [InlineData("..")]
    [InlineData("sub/../../models-backup/keep")]
    [InlineData("/etc/passwd")]
    public void Remove_NameThatLeavesTheDirectory_Throws(string name)
    {
        using var data = new TempDirectory();
        var models = Directory.CreateDirectory(Path.Combine(data.Path, "models")).FullName;
        var backup = Directory.CreateDirectory(Path.Combine(data.Path, "models-backup")).FullName;
        File.WriteAllText(Path.Combine(backup, "keep.gguf"), "precious");

        Assert.Throws<InvalidOperationException>(() => new ModelStore(models).Remove(name));
        Assert.True(File.Exists(Path.Combine(backup, "keep.gguf")));
    }

    [Fact]
    public void Remove_SymbolicLinkToAFileOutside_ThrowsAndTheTargetStays()
    {
        using var data = new TempDirectory();
        var models = Directory.CreateDirectory(Path.Combine(data.Path, "models")).FullName;
        var outside = Path.Combine(data.Path, "outside.gguf");
        File.WriteAllText(outside, "precious");
        File.CreateSymbolicLink(Path.Combine(models, "escape.gguf"), outside);

        Assert.Throws<InvalidOperationException>(() => new ModelStore(models).Remove("escape"));
        Assert.True(File.Exists(outside));
    }

    [Fact]
    public void Remove_StoredModelInADirectoryReachedThroughALink_Removes()
    {
        using var data = new TempDirectory();
        var real = Directory.CreateDirectory(Path.Combine(data.Path, "real-models")).FullName;
        var linked = Path.Combine(data.Path, "models");
        Directory.CreateSymbolicLink(linked, real);
        File.WriteAllText(Path.Combine(real, "tiny.gguf"), "x");

        new ModelStore(linked).Remove("tiny");

        Assert.False(File.Exists(Path.Combine(real, "tiny.gguf")));
    }
}
