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

    public static bool IsValid(string prefix, string? value) =>
        value is not null
        && value.Length == prefix.Length + 32
        && value.StartsWith(prefix, StringComparison.Ordinal)
        && value.AsSpan(prefix.Length).ContainsAnyExcept(LowerHex) == false;
}
