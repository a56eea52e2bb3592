namespace CallNotify.Domain.Bindings;

public enum BindingStatus
{
    Active,
    Inactive,
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
