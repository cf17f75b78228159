using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using WeSeek.Configuration;
using WeSeek.TestKit;

namespace WeSeek.Host.Tests.Cli;

/// <summary>Every verb's host comes from <see cref="HostComposition"/>: one configuration, one validation, disposed.</summary>
public sealed class HostCompositionTests
{
    [Fact]
    public void CreateBuilder_ValuesNoOptionCanHold_RefusedTogetherNamingEachKeyEvenInSectionsTheVerbDoesNotBind()
    {
        using var data = new TempDirectory();

        var refused = Assert.Throws<OptionsValidationException>(() => HostComposition.CreateBuilder(
            [$"--Storage:DataDirectory={data.Path}", "--Outbox:DailyCap=abc", "--ILink:Enabled=yes", "--OfficialAccount:Accounts:demo:Token=fine"]));

        Assert.Equal(
            [
                "ILink:Enabled (environment variable WESEEK__ILink__Enabled): 'yes' is not a valid true or false",
                "Outbox:DailyCap (environment variable WESEEK__Outbox__DailyCap): 'abc' is not a valid whole number",
            ],
            refused.Failures);
    }

    [Fact]
    public async Task EverySectionServeAndModelServeBind_IsCheckedForValuesItsOptionCannotHold()
    {
        using var data = new TempDirectory();
        string[] common = ["--urls=http://127.0.0.1:0", $"--Storage:DataDirectory={data.Path}"];
        // The plugins bind their sections only when configured.
        await using var serve = Commands.ServeCommand.Build([.. common, "--Model:Provider=remote",
            "--Plugins:Sql:Queries:q:Sql=select 1", "--Plugins:Http:Endpoints:e:Url=http://127.0.0.1:9/"]);
        await using var modelServe = Commands.ModelServeCommand.Build(common);

        var bound = serve.Services.GetServices<BoundSection>().Concat(modelServe.Services.GetServices<BoundSection>());

        // A section outside the catalogue would be bound unchecked: a value it cannot hold would stop start-up with the binder's stack trace.
        Assert.All(bound, section => Assert.Contains(UnknownSettings.Catalog, known => string.Equals(known.Section, section.Section, StringComparison.OrdinalIgnoreCase)));
    }

    [Fact]
    public async Task BuildHost_InvalidSection_RefusesNamingTheKeyAndDisposesWhatValidationOpened()
    {
        using var data = new TempDirectory();
        var builder = HostComposition.CreateBuilder([$"--Storage:DataDirectory={data.Path}", "--Probe:Size=0"]);
        builder.Services.AddSection<ProbeOptions>(builder.Configuration, "Probe");
        var validator = new DisposableValidator();
        // From a factory: the container disposes what it made, not instances handed to it.
        builder.Services.AddSingleton<IValidateOptions<ProbeOptions>>(_ => validator);

        var refused = await Assert.ThrowsAsync<OptionsValidationException>(builder.BuildHostAsync);

        Assert.Contains(refused.Failures, f => f.StartsWith("Probe:Size (environment variable WESEEK__Probe__Size): ", StringComparison.Ordinal));
        Assert.True(validator.Disposed);
    }

    [Fact]
    public async Task BuildHost_DisposedWithAwaitUsing_DisposesServicesThatOnlyDisposeAsynchronously()
    {
        using var data = new TempDirectory();
        var builder = HostComposition.CreateBuilder([$"--Storage:DataDirectory={data.Path}"]);
        builder.Services.AddSingleton<AsyncOnlyResource>();
        AsyncOnlyResource resource;

        await using (var host = await builder.BuildHostAsync())
        {
            resource = host.Services.GetRequiredService<AsyncOnlyResource>();
        }

        Assert.True(resource.Disposed);
    }

    private sealed class ProbeOptions
    {
        [System.ComponentModel.DataAnnotations.Range(1, 10)]
        public int Size { get; set; } = 1;
    }

    private sealed class DisposableValidator : IValidateOptions<ProbeOptions>, IAsyncDisposable
    {
        public bool Disposed { get; private set; }

        public ValidateOptionsResult Validate(string? name, ProbeOptions options) => ValidateOptionsResult.Success;

        public ValueTask DisposeAsync()
        {
            Disposed = true;
            return ValueTask.CompletedTask;
        }
    }

    private sealed class AsyncOnlyResource : IAsyncDisposable
    {
        public bool Disposed { get; private set; }

        public ValueTask DisposeAsync()
        {
            Disposed = true;
            return ValueTask.CompletedTask;
        }
    }
}
