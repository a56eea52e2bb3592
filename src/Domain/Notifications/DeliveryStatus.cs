namespace CallNotify.Domain.Notifications;

public enum DeliveryStatus
{
    Pending,
    Accepted,
    Failed,
    Expired,
}

public enum NotificationOutcome
{
    /// <summary>No delivery accepted yet, and some are still being tried.</summary>
    Pending,

    /// <summary>At least one client's channel accepted the notification.</summary>
    Delivered,

    /// <summary>Every client turned out to be gone (dead push tokens, closed sessions).</summary>
    NoActiveClients,

    /// <summary>Nothing was accepted and nothing is still being tried.</summary>
    Failed,
}

public static class NotificationWire
{
    public static string ToWire(this DeliveryStatus status) => status switch
    {
        DeliveryStatus.Pending => "pending",
        DeliveryStatus.Accepted => "accepted",
        DeliveryStatus.Failed => "failed",
        DeliveryStatus.Expired => "expired",
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, null),
    };

    public static string ToWire(this NotificationOutcome outcome) => outcome switch
    {
        NotificationOutcome.Pending => "pending",
        NotificationOutcome.Delivered => "delivered",
        NotificationOutcome.NoActiveClients => "no-active-clients",
        NotificationOutcome.Failed => "failed",
        _ => throw new ArgumentOutOfRangeException(nameof(outcome), outcome, null),
    };

    /// <summary>The outcome a wire value names; anything unknown reads as <see cref="NotificationOutcome.Failed"/>.</summary>
    public static NotificationOutcome ParseOutcome(string wire) => wire switch
    {
        "pending" => NotificationOutcome.Pending,
        "delivered" => NotificationOutcome.Delivered,
        "no-active-clients" => NotificationOutcome.NoActiveClients,
        _ => NotificationOutcome.Failed,
    };
}

/// <summary>Failure reasons recorded on deliveries (<c>lastError</c>).</summary>
public static class DeliveryErrors
{
    public const string ChannelNotConfigured = "channel-not-configured";
    public const string PayloadTooLarge = "payload-too-large";
    public const string SessionClosed = "session-closed";
    public const string InviteExpired = "invite-expired";
    public const string BindingInactive = "binding-inactive";
    public const string AttemptTimeout = "attempt-timeout";
}
