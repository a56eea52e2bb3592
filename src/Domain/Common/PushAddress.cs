namespace CallNotify.Domain.Common;

/// <summary>The provider's token for one app install: an FCM registration token or an APNs device token.</summary>
public readonly record struct PushAddress
{
    public const int MaxLength = 4096;

    private PushAddress(string value) => Value = value;

    /// <summary>
    /// A value exactly as a store holds it, checked when it was written: a store's reader uses this, never input.
    /// </summary>
    public static PushAddress Restore(string value) => new(value ?? throw new ArgumentNullException(nameof(value)));

    public string Value { get; }

    public static bool IsValid(ChannelKind channel, string? value)
    {
        if (!Text.IsStorable(value, MaxLength))
        {
            return false;
        }

        foreach (var c in value)
        {
            if (char.IsWhiteSpace(c))
            {
                return false;
            }

            // APNs device tokens are hexadecimal.
            if (channel.IsApns() && !char.IsAsciiHexDigit(c))
            {
                return false;
            }
        }

        return true;
    }

    public static PushAddress Parse(ChannelKind channel, string? value) =>
        IsValid(channel, value)
            ? new PushAddress(channel.IsApns() ? value!.ToLowerInvariant() : value!)
            : throw new DomainException(
                "address",
                channel.IsApns()
                    ? $"An APNs device token is 1 to {MaxLength} hexadecimal digits."
                    : $"A push address is 1 to {MaxLength} characters without spaces or control characters.");

    /// <summary>The last characters only, for logs: a push token never appears in full.</summary>
    public string Redacted() => Redact(Value);

    public static string Redact(string? token) =>
        string.IsNullOrEmpty(token) ? string.Empty : token.Length <= 6 ? "…" : "…" + token[^6..];

    public override string ToString() => Redacted();
}
