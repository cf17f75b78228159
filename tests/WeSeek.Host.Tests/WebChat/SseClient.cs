using System.Text.Json;
using System.Threading.Channels;

namespace WeSeek.Host.Tests.WebChat;

/// <summary>A minimal Server-Sent Events reader over a real HTTP response (text/event-stream framing).</summary>
internal sealed class SseClient : IAsyncDisposable
{
    private readonly HttpResponseMessage _response;
    private readonly Channel<(string Event, JsonElement Data)> _events = Channel.CreateUnbounded<(string, JsonElement)>();
    private readonly CancellationTokenSource _cts = new();
    private readonly Task _reader;

    private SseClient(HttpResponseMessage response)
    {
        _response = response;
        _reader = ReadAsync();
    }

    public static async Task<SseClient> ConnectAsync(HttpClient http, string path)
    {
        var response = await http.GetAsync(path, HttpCompletionOption.ResponseHeadersRead);
        response.EnsureSuccessStatusCode();
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        return new SseClient(response);
    }

    /// <summary>The next event, skipping pings.</summary>
    public async Task<(string Event, JsonElement Data)> NextAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (true)
        {
            var item = await _events.Reader.ReadAsync(timeout.Token);
            if (item.Event != "ping")
            {
                return item;
            }
        }
    }

    private async Task ReadAsync()
    {
        try
        {
            using var reader = new StreamReader(await _response.Content.ReadAsStreamAsync(_cts.Token));
            var name = "message";
            var data = new List<string>();
            while (await reader.ReadLineAsync(_cts.Token) is { } line)
            {
                if (line.Length == 0)
                {
                    if (data.Count > 0)
                    {
                        using var doc = JsonDocument.Parse(string.Join("\n", data));
                        _events.Writer.TryWrite((name, doc.RootElement.Clone()));
                    }

                    name = "message";
                    data.Clear();
                }
                else if (line.StartsWith("event:", StringComparison.Ordinal))
                {
                    name = line[6..].Trim();
                }
                else if (line.StartsWith("data:", StringComparison.Ordinal))
                {
                    data.Add(line[5..].TrimStart());
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (IOException)
        {
        }
        finally
        {
            _events.Writer.TryComplete();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _cts.CancelAsync();
        _response.Dispose();
        await _reader;
        _cts.Dispose();
    }
}
