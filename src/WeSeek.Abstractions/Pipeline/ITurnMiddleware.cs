namespace WeSeek.Pipeline;

/// <summary>
/// One step of the turn pipeline, the ASP.NET Core middleware shape: read and write the <see cref="Turn"/>,
/// call <c>next</c> to go on, or return without calling it to short-circuit. A step never calls
/// a channel; replies go to <see cref="Turn.Replies"/> and the outbox sends them. Middlewares are resolved
/// from the turn's scope, so a scoped middleware lives for one turn.
/// </summary>
public interface ITurnMiddleware
{
    /// <summary>Runs the step.</summary>
    Task InvokeAsync(Turn turn, TurnDelegate next);
}
