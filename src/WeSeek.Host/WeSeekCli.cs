using System.CommandLine;
using WeSeek.Host.Commands;

namespace WeSeek.Host;

/// <summary>The <c>weseek</c> command line: every verb. Program runs it; the deployment tests parse the
/// containers' commands with it, so an image or manifest cannot name a verb that does not exist.</summary>
internal static class WeSeekCli
{
    public static RootCommand CreateRoot() => new(
        "WeSeek: a self-hosted WeChat assistant whose brain is DeepSeek-R1. Every verb keeps its data in one directory: " +
        $"{DataLocation.PerUserDefault()} unless {DataLocation.HomeVariable} or --data DIR names another.")
    {
        ServeCommand.Create(),
        ChatCommand.Create(),
        ModelCommand.Create(),
        LoginCommand.Create(),
        LogsCommand.Create(),
        AuditCommand.Create(),
        AdminCommand.Create(),
        KnowledgeCommand.Create(),
        FeedbackCommand.Create(),
        DbCommand.Create(),
    };
}
