namespace CallNotify.Domain.Common;

/// <summary>Rules for text the service stores.</summary>
public static class Text
{
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
