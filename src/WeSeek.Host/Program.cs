using System.CommandLine;
using WeSeek.Host;
using WeSeek.Host.Commands;

var root = new RootCommand(
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
    DbCommand.Create(),
};

// --data DIR is accepted by every verb: it is the configuration key Storage:DataDirectory.
// --strict-config (any verb that starts the bot) refuses keys no WeSeek option reads; see UnknownSettings.
args = [.. DataLocation.RewriteArgs(args).Select(a => a == "--strict-config" ? $"--{UnknownSettings.StrictKey}=true" : a)];

// The verbs handle Ctrl+C and SIGTERM themselves (the host drains running turns), so System.CommandLine
// must not end the process on its own timer.
return await root.Parse(args).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null });
