namespace CallNotify.Domain.Common;

/// <summary>A Twilio Voice SDK client identity: non-empty, at most 256 characters, no control characters.</summary>
public readonly record struct ClientIdentity
{
    public const int MaxLength = 256;
    public const string ClientPrefix = "client:";

    private ClientIdentity(string value) => Value = value;

    /// <summary>
    /// A value exactly as a store holds it, checked when it was written: a store's reader uses this, never input.
    /// </summary>
    public static ClientIdentity Restore(string value) => new(value ?? throw new ArgumentNullException(nameof(value)));

    public string Value { get; }

    public static bool IsValid([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] string? value) => Text.IsStorable(value, MaxLength);

    public static ClientIdentity Parse(string? value) =>
        IsValid(value)
            ? new ClientIdentity(value!)
            : throw new DomainException("identity", $"A client identity is 1 to {MaxLength} characters without control characters.");

    /// <summary>Reads the identity out of a Twilio address such as <c>client:alice</c>.</summary>
    public static bool TryFromClientAddress(string? address, out ClientIdentity identity)
    {
        identity = default;
        if (address is null || !address.StartsWith(ClientPrefix, StringComparison.Ordinal))
        {
            return false;
        }

        var value = address[ClientPrefix.Length..];
        if (!IsValid(value))
        {
            return false;
        }

        identity = new ClientIdentity(value);
        return true;
    }

    public override string ToString() => Value;
}
