using System.Collections.Concurrent;
using System.Diagnostics;
using WeSeek.TestKit;

namespace WeSeek.Tests.Operations;

/// <summary>One trace from the request that delivered a message to the turn, the model call and the send,
/// across the inbox (the turn runs later, from the stored traceparent).</summary>
public sealed class TracingTests
{
    [Fact]
    public async Task Message_TurnModelAndSend_JoinTheDeliveringRequestsTrace()
    {
        var stopped = new ConcurrentBag<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is "WeSeek" or "WeSeek.Tests",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = stopped.Add,
        };
        ActivitySource.AddActivityListener(listener);
        using var source = new ActivitySource("WeSeek.Tests");
        await using var core = await CoreHarness.CreateAsync();

        ActivityTraceId traceId;
        ActivitySpanId requestSpan;
        using (var request = source.StartActivity("callback", ActivityKind.Server)!)
        {
            traceId = request.TraceId;
            requestSpan = request.SpanId;
            await core.ReceiveAsync("m1", "u1", "你好");
        }

        // Outside the request now, as a dispatcher and a sender are.
        await core.RunTurnsAsync();
        await core.SendDueAsync();

        var mine = stopped.Where(a => a.TraceId == traceId).ToList();
        var turn = Assert.Single(mine, a => a.OperationName == "weseek.turn");
        var send = Assert.Single(mine, a => a.OperationName == "weseek.send");
        var model = Assert.Single(mine, a => a.OperationName == "chat");
        Assert.Equal(requestSpan, turn.ParentSpanId);
        Assert.Equal(requestSpan, send.ParentSpanId);
        Assert.Equal(turn.SpanId, model.ParentSpanId);
        Assert.Equal("chat", model.GetTagItem("gen_ai.operation.name"));
    }
}
