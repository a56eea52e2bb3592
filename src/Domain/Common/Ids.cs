using System.Buffers;

namespace CallNotify.Domain.Common;

/// <summary>
/// Identifiers in Twilio's style: a two-letter prefix and 32 lower-case hex digits. The digits are a
/// version-7 UUID taken at the entity's creation time, so ordinal order is creation order.
/// </summary>
public static class Ids
{
    private static readonly SearchValues<char> LowerHex = SearchValues.Create("0123456789abcdef");

    public const string BindingPrefix = "BD";
    public const string NotificationPrefix = "NO";
    public const string DeliveryPrefix = "DL";
    public const string SessionPrefix = "WS";
    public const string InstancePrefix = "IN";

    public static string New(string prefix, DateTimeOffset at) => prefix + Guid.CreateVersion7(at).ToString("N");

    /// <summary>How many ids <see cref="Numbered"/> makes from one: its last three hex digits.</summary>
    public const int MaxNumbered = 0x1000;

    /// <summary>
    /// Id number <paramref name="ordinal"/> (0 to <see cref="MaxNumbered"/> − 1) made from <paramref name="parent"/>: its
    /// first 29 hex digits, then the ordinal in three. A delivery's id is made so from its notification's, which lets
    /// PostgreSQL number the deliveries it finds in the statement that records them
    /// (<c>NotificationRecord</c>, which spells this rule in SQL; the store's contract tests check that the two agree).
    /// The parent's time order and 58 of its random bits are kept.
    /// </summary>
    public static string Numbered(string prefix, string parent, int ordinal)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(ordinal);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(ordinal, MaxNumbered);
        if (parent.Length < 2 + 32)
        {
            throw new ArgumentException($"'{parent}' is not an id.", nameof(parent));
        }

        return string.Concat(prefix, parent.AsSpan(2, 29), ordinal.ToString("x3", System.Globalization.CultureInfo.InvariantCulture));
    }

    public static bool IsValid(string prefix, string? value) =>
        value is not null
        && value.Length == prefix.Length + 32
        && value.StartsWith(prefix, StringComparison.Ordinal)
        && value.AsSpan(prefix.Length).ContainsAnyExcept(LowerHex) == false;
}
