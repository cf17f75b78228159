using System.CommandLine;
using WeSeek.Host.Commands;

var root = new RootCommand("WeSeek: a self-hosted WeChat assistant whose brain is DeepSeek-R1.")
{
    ServeCommand.Create(),
    ChatCommand.Create(),
    ModelCommand.Create(),
    LoginCommand.Create(),
    LogsCommand.Create(),
    AuditCommand.Create(),
    AdminCommand.Create(),
    KnowledgeCommand.Create(),
};

// The verbs handle Ctrl+C and SIGTERM themselves (the host drains running turns), so System.CommandLine
// must not end the process on its own timer.
return await root.Parse(args).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null });
