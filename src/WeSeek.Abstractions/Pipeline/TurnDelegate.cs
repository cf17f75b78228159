namespace WeSeek.Pipeline;

/// <summary>A step of the turn pipeline, with the rest of the pipeline behind it.</summary>
public delegate Task TurnDelegate(Turn turn);
