namespace WeSeek.Messaging;

/// <summary>
/// Names a channel instance (<c>webchat</c>, <c>terminal</c>, <c>mp:demo</c>). Lower-case ASCII letters,
/// digits and <c>-_:.</c>, at most 64 characters, so it is safe in keys, logs and URLs.
/// </summary>
public readonly record struct ChannelId
{
    private ChannelId(string value) => Value = value;

    /// <summary>The validated name.</summary>
    public string Value { get; }

    /// <summary>Validates <paramref name="value"/> and wraps it.</summary>
    /// <exception cref="ArgumentException">The name is empty, too long or has other characters.</exception>
    public static ChannelId From(string value)
    {
        ArgumentException.ThrowIfNullOrEmpty(value);
        if (value.Length > 64 || !value.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-' or '_' or ':' or '.'))
        {
            throw new ArgumentException($"Channel id '{value}' must be 1-64 characters of a-z, 0-9, '-', '_', ':' or '.'.", nameof(value));
        }

        return new ChannelId(value);
    }

    /// <inheritdoc />
    public override string ToString() => Value ?? string.Empty;
}
