namespace CallNotify.Domain.Bindings;

public enum BindingStatus
{
    Active,
    Inactive,
}

/// <summary>A binding status's wire name (<c>active</c>, <c>inactive</c>): the API's <c>status</c> and the stored value.</summary>
public static class BindingStatuses
{
    public const string ActiveWire = "active";
    public const string InactiveWire = "inactive";

    public static string ToWire(this BindingStatus status) => status == BindingStatus.Active ? ActiveWire : InactiveWire;

    public static bool TryParse(string? value, out BindingStatus status)
    {
        (var known, status) = value switch
        {
            ActiveWire => (true, BindingStatus.Active),
            InactiveWire => (true, BindingStatus.Inactive),
            _ => (false, BindingStatus.Inactive),
        };
        return known;
    }

    /// <summary>The status a stored wire name means; anything but <c>active</c> is inactive.</summary>
    public static BindingStatus Parse(string value) => value == ActiveWire ? BindingStatus.Active : BindingStatus.Inactive;
}

/// <summary>Why a binding stopped being used. The wire values are what the admin API shows as <c>inactiveReason</c>.</summary>
public static class InactiveReasons
{
    public const string Expired = "expired";
    public const string Superseded = "superseded";
    public const string Unregistered = "unregistered";
    public const string InvalidToken = "invalid-token";
    public const string SenderIdMismatch = "sender-id-mismatch";
    public const string ExpiredToken = "expired-token";
    public const string BadDeviceToken = "bad-device-token";
    public const string DeviceTokenNotForTopic = "device-token-not-for-topic";
}
