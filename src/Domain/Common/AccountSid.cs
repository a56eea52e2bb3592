namespace CallNotify.Domain.Common;

/// <summary>A Twilio Account SID: <c>AC</c> followed by 32 hexadecimal digits (<see cref="Format"/>).</summary>
public readonly record struct AccountSid
{
    /// <summary>How the rule reads in a message: every one that names it uses this.</summary>
    public const string Format = "'AC' followed by 32 hexadecimal digits";

    public const int Length = 34;

    private AccountSid(string value) => Value = value;

    /// <summary>
    /// A value exactly as a store holds it, checked when it was written: a store's reader uses this, never input.
    /// </summary>
    public static AccountSid Restore(string value) => new(value ?? throw new ArgumentNullException(nameof(value)));

    public string Value { get; }

    public static bool IsValid(string? value)
    {
        if (value is null || value.Length != Length || !value.StartsWith("AC", StringComparison.Ordinal))
        {
            return false;
        }

        for (var i = 2; i < value.Length; i++)
        {
            if (!char.IsAsciiHexDigit(value[i]))
            {
                return false;
            }
        }

        return true;
    }

    public static AccountSid Parse(string? value) =>
        IsValid(value)
            ? new AccountSid(value!)
            : throw new DomainException("accountSid", "An Account SID is " + Format + ".");

    public static bool TryParse(string? value, out AccountSid sid)
    {
        sid = IsValid(value) ? new AccountSid(value!) : default;
        return sid.Value is not null;
    }

    public override string ToString() => Value;
}
