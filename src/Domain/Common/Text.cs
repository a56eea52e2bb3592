namespace CallNotify.Domain.Common;

/// <summary>Rules for text the service stores.</summary>
public static class Text
{
    /// <summary>
    /// True when <paramref name="value"/> holds a control character. No stored text may: nothing Twilio or a client
    /// sends has one, and PostgreSQL's text takes no NUL (ADR 0011). The one spelling of the rule.
    /// </summary>
    public static bool HasControlCharacter(string value) => value.AsSpan().IndexOfAnyInRange('\u0000', '\u001f') >= 0
        || value.AsSpan().IndexOfAnyInRange('\u007f', '\u009f') >= 0;

    /// <summary>A stored text of 1 to <paramref name="maxLength"/> characters, none of them a control character.</summary>
    public static bool IsStorable([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] string? value, int maxLength) =>
        !string.IsNullOrEmpty(value) && value.Length <= maxLength && !HasControlCharacter(value);

    /// <summary>
    /// <paramref name="value"/> cut to at most <paramref name="maxLength"/> UTF-16 units, never inside a surrogate pair:
    /// a half pair cannot be encoded as UTF-8, so the store could not take it.
    /// </summary>
    public static string Truncate(string value, int maxLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxLength);
        if (value.Length <= maxLength)
        {
            return value;
        }

        var end = maxLength;
        if (end > 0 && char.IsHighSurrogate(value[end - 1]) && char.IsLowSurrogate(value[end]))
        {
            end--;
        }

        return value[..end];
    }
}
