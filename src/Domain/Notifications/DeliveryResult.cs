namespace CallNotify.Domain.Notifications;

public enum DeliveryResultKind
{
    /// <summary>The provider (or the socket) took the notification.</summary>
    Accepted,

    /// <summary>A passing failure: try again after <see cref="DeliveryResult.RetryAfter"/> while the invite lives.</summary>
    Retry,

    /// <summary>The client is gone for good (dead push token, closed session).</summary>
    ClientGone,

    /// <summary>A failure that trying again will not fix.</summary>
    Failed,
}

/// <summary>What one attempt to hand a notification to one client's channel came to.</summary>
public readonly record struct DeliveryResult(DeliveryResultKind Kind, string? Reason, TimeSpan? RetryAfter)
{
    public static DeliveryResult Accepted() => new(DeliveryResultKind.Accepted, null, null);

    public static DeliveryResult Retry(string reason, TimeSpan? retryAfter = null) => new(DeliveryResultKind.Retry, reason, retryAfter);

    public static DeliveryResult ClientGone(string reason) => new(DeliveryResultKind.ClientGone, reason, null);

    public static DeliveryResult Failed(string reason) => new(DeliveryResultKind.Failed, reason, null);
}
