using WeSeek.TestKit;

namespace WeSeek.Host.Tests.Cli;

/// <summary><c>weseek kb</c> on the real executable, and a chat that cites what it added.</summary>
public sealed class KnowledgeCliTests
{
    private static void WriteDocuments(string folder)
    {
        Directory.CreateDirectory(Path.Combine(folder, "hr"));
        File.WriteAllText(Path.Combine(folder, "hr", "leave.md"), "# 假期\n## 年假\n员工每年享有十天带薪年假，未休完的年假可以顺延到次年三月底。\n");
        File.WriteAllText(Path.Combine(folder, "expense.txt"), "报销需要在费用发生后三十天内提交，发票抬头必须为公司全称。\n");
        File.WriteAllText(Path.Combine(folder, "visitor.html"), "<html><body><h1>访客</h1><p>访客需要在前台登记身份证。</p><script>var x = '年假';</script></body></html>");
        File.WriteAllText(Path.Combine(folder, "notes.bin"), "ignored");
    }

    [Fact]
    public async Task AddListSearchRm_WorkOnTheDataDirectory()
    {
        using var data = new TempDirectory();
        using var documents = new TempDirectory();
        WriteDocuments(documents.Path);
        string[] storage = [$"--Storage:DataDirectory={data.Path}"];

        var add = await WeseekProcess.RunAsync(["kb", "add", documents.Path, .. storage]);
        var again = await WeseekProcess.RunAsync(["kb", "add", documents.Path, .. storage]);
        var list = await WeseekProcess.RunAsync(["kb", "list", .. storage]);
        var search = await WeseekProcess.RunAsync(["kb", "search", "年假能顺延吗", .. storage]);
        var rm = await WeseekProcess.RunAsync(["kb", "rm", "expense.txt", .. storage]);
        var rmMissing = await WeseekProcess.RunAsync(["kb", "rm", "expense.txt", .. storage]);
        var after = await WeseekProcess.RunAsync(["kb", "list", .. storage]);
        var missing = await WeseekProcess.RunAsync(["kb", "add", Path.Combine(documents.Path, "none.md"), .. storage]);

        Assert.True(add.ExitCode == 0, add.Output + add.Error);
        Assert.Equal(3, add.Output.Split("added").Length - 1);
        Assert.Equal(3, again.Output.Split("unchanged").Length - 1);
        Assert.Contains("hr/leave.md", list.Output, StringComparison.Ordinal);
        Assert.Contains("visitor.html", list.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("notes.bin", list.Output, StringComparison.Ordinal);
        Assert.True(search.ExitCode == 0, search.Output + search.Error);
        Assert.Contains("hr/leave.md", search.Output, StringComparison.Ordinal);
        Assert.Equal(0, rm.ExitCode);
        Assert.Equal(1, rmMissing.ExitCode);
        Assert.DoesNotContain("expense.txt", after.Output, StringComparison.Ordinal);
        Assert.Contains("hr/leave.md", after.Output, StringComparison.Ordinal);
        Assert.Equal(2, missing.ExitCode);
        Assert.True(Directory.Exists(Path.Combine(data.Path, "kb")));
    }

    [Fact]
    public async Task Chat_AfterKbAdd_PutsThePassageInThePrompt_AndCitesTheSource()
    {
        using var data = new TempDirectory();
        using var documents = new TempDirectory();
        WriteDocuments(documents.Path);
        var add = await WeseekProcess.RunAsync(["kb", "add", documents.Path, $"--Storage:DataDirectory={data.Path}"]);
        Assert.True(add.ExitCode == 0, add.Output + add.Error);
        await using var model = await FakeOpenAiServer.StartAsync();
        model.Script = _ => ["<think>\n查资料\n</think>\n\n", "可以顺延到次年三月底。"];

        var (exitCode, output, error) = await WeseekProcess.RunAsync(
            ["chat", $"--Storage:DataDirectory={data.Path}", "--Model:Provider=remote", $"--Model:Remote:BaseUrl={model.BaseUrl}"],
            input: "年假没休完能顺延吗？\n");

        Assert.True(exitCode == 0, error);
        var request = Assert.Single(model.Requests).ToJsonString();
        Assert.Contains("参考资料", System.Text.RegularExpressions.Regex.Unescape(request), StringComparison.Ordinal);
        Assert.Contains("可以顺延到次年三月底。", output, StringComparison.Ordinal);
        Assert.Contains("来源：hr/leave.md", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task KbAdd_ReadsPdfAndDocx_AndReportsADamagedFile()
    {
        using var data = new TempDirectory();
        using var documents = new TempDirectory();
        await File.WriteAllBytesAsync(Path.Combine(documents.Path, "policy.pdf"), TestDocuments.Pdf(
            ["Travel policy", "Economy class is booked for flights under six hours."],
            ["Parking permits are issued by the front desk on Mondays."]), TestContext.Current.CancellationToken);
        await File.WriteAllBytesAsync(Path.Combine(documents.Path, "手册.docx"), TestDocuments.Docx(
            ("1", "假期制度"), ("2", "病假"), (null, "病假需要提供二级以上医院的证明。")), TestContext.Current.CancellationToken);
        await File.WriteAllBytesAsync(Path.Combine(documents.Path, "年假.pdf"), TestDocuments.ChinesePdf(
            ["年假", "未休完的年假可以顺延到次年三月底。"]), TestContext.Current.CancellationToken);
        await File.WriteAllTextAsync(Path.Combine(documents.Path, "scan.pdf"), "%PDF-1.7 truncated", TestContext.Current.CancellationToken);
        string[] storage = [$"--Storage:DataDirectory={data.Path}"];

        var add = await WeseekProcess.RunAsync(["kb", "add", documents.Path, .. storage]);
        var pdf = await WeseekProcess.RunAsync(["kb", "search", "who issues parking permits", .. storage]);
        var docx = await WeseekProcess.RunAsync(["kb", "search", "病假需要什么证明", .. storage]);
        var chinesePdf = await WeseekProcess.RunAsync(["kb", "search", "年假可以顺延吗", .. storage]);
        var list = await WeseekProcess.RunAsync(["kb", "list", .. storage]);

        Assert.True(add.ExitCode == 1, add.Output + add.Error);
        Assert.Equal(3, add.Output.Split("added").Length - 1);
        Assert.Contains("unreadable", add.Output, StringComparison.Ordinal);
        Assert.Contains("policy.pdf", pdf.Output, StringComparison.Ordinal);
        Assert.Contains("手册.docx", docx.Output, StringComparison.Ordinal);
        Assert.Contains("年假.pdf", chinesePdf.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("scan.pdf", list.Output, StringComparison.Ordinal);
    }
}
