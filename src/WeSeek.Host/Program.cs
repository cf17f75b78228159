using WeSeek.Host;

var root = WeSeekCli.CreateRoot();

// --data DIR is accepted by every verb: it is the configuration key Storage:DataDirectory.
// --strict-config (any verb that starts the bot) refuses keys no WeSeek option reads; see UnknownSettings.
args = [.. DataLocation.RewriteArgs(args).Select(a => a == "--strict-config" ? $"--{UnknownSettings.StrictKey}=true" : a)];

// The verbs handle Ctrl+C and SIGTERM themselves (the host drains running turns), so System.CommandLine
// must not end the process on its own timer.
return await root.Parse(args).InvokeAsync(new System.CommandLine.InvocationConfiguration { ProcessTerminationTimeout = null });
