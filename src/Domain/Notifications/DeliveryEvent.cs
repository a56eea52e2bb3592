namespace CallNotify.Domain.Notifications;

/// <summary>What happened to a delivery, in the order it happened.</summary>
public enum DeliveryEventKind
{
    /// <summary>The provider accepted the push, or the frame was written to the session.</summary>
    Accepted,

    /// <summary>A passing failure; another attempt follows.</summary>
    Retry,

    /// <summary>A failure that ends the delivery.</summary>
    Failed,

    /// <summary>The client is gone for good (dead token, closed session, binding no longer the callee's).</summary>
    ClientGone,

    /// <summary>The invite ended before the delivery was accepted.</summary>
    Expired,

    /// <summary>The client said it received the invite.</summary>
    Acknowledged,

    /// <summary>Another instance took the delivery over from one that went silent.</summary>
    TakenOver,
}

/// <summary>
/// One step of a delivery's history. Events are only ever appended: recording one writes that one row and nothing
/// else of the notification's.
/// </summary>
public sealed class DeliveryEvent
{
    public DeliveryEvent(DateTimeOffset at, DeliveryEventKind kind, string? detail)
    {
        At = at;
        Kind = kind;
        Detail = detail;
    }

    public DateTimeOffset At { get; private set; }

    public DeliveryEventKind Kind { get; private set; }

    /// <summary>The error or reason, when there is one.</summary>
    public string? Detail { get; private set; }
}

public static class DeliveryEventWire
{
    public static string ToWire(this DeliveryEventKind kind) => kind switch
    {
        DeliveryEventKind.Accepted => "accepted",
        DeliveryEventKind.Retry => "retry",
        DeliveryEventKind.Failed => "failed",
        DeliveryEventKind.ClientGone => "client-gone",
        DeliveryEventKind.Expired => "expired",
        DeliveryEventKind.Acknowledged => "acknowledged",
        DeliveryEventKind.TakenOver => "taken-over",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    public static bool TryParse(string? value, out DeliveryEventKind kind)
    {
        foreach (var candidate in Enum.GetValues<DeliveryEventKind>())
        {
            if (candidate.ToWire() == value)
            {
                kind = candidate;
                return true;
            }
        }

        kind = default;
        return false;
    }
}
