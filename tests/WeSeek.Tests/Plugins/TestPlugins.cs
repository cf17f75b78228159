using WeSeek.Plugins;

namespace WeSeek.Tests.Plugins;

/// <summary>Contributes one fixed passage and a citation.</summary>
internal sealed class FixedPlugin(string name, string passage, string source) : IWeSeekPlugin
{
    public string Name => name;

    public string Description => "固定资料";

    public int Calls;

    public Task<PluginResult?> TryHandleAsync(PluginContext context, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref Calls);
        return Task.FromResult<PluginResult?>(PluginResult.Context([new PluginPassage(passage, source)], [$"来源：{source}"]));
    }
}

/// <summary>Throws before returning a task.</summary>
internal sealed class ThrowingPlugin(string name) : IWeSeekPlugin
{
    public string Name => name;

    public string Description => "总是出错";

    public Task<PluginResult?> TryHandleAsync(PluginContext context, CancellationToken cancellationToken) =>
        throw new InvalidOperationException("plugin bug");
}

/// <summary>Never finishes and ignores cancellation.</summary>
internal sealed class HangingPlugin(string name) : IWeSeekPlugin
{
    private readonly TaskCompletionSource<PluginResult?> _never = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public string Name => name;

    public string Description => "永不返回";

    public Task<PluginResult?> TryHandleAsync(PluginContext context, CancellationToken cancellationToken) => _never.Task;
}

/// <summary>Answers 「天气」 directly.</summary>
internal sealed class AnsweringPlugin(string name) : IWeSeekPlugin
{
    public string Name => name;

    public string Description => "直接回答天气";

    public Task<PluginResult?> TryHandleAsync(PluginContext context, CancellationToken cancellationToken) =>
        Task.FromResult(context.Text.Contains("天气", StringComparison.Ordinal) ? PluginResult.Reply("今天晴，25°C。") : null);
}
