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
/// else of the notification's. An event's <see cref="Sequence"/> is its position in the history, so two writers that
/// both append the next event of one delivery cannot both succeed (the store's key is (delivery, sequence)).
/// </summary>
public sealed class DeliveryEvent
{
    public DeliveryEvent(DateTimeOffset at, DeliveryEventKind kind, string? detail, DateTimeOffset? dueAt = null, int sequence = 0)
    {
        At = at;
        Kind = kind;
        Detail = detail;
        DueAt = dueAt;
        Sequence = sequence;
    }

    // For EF Core.
    private DeliveryEvent()
    {
    }

    /// <summary>The event's position in its delivery's history, from 1.</summary>
    public int Sequence { get; private set; }

    public DateTimeOffset At { get; private set; }

    public DeliveryEventKind Kind { get; private set; }

    /// <summary>The error or reason, when there is one.</summary>
    public string? Detail { get; private set; }

    /// <summary>
    /// For <see cref="DeliveryEventKind.Retry"/>: when the next attempt is due; for <see cref="DeliveryEventKind.TakenOver"/>:
    /// until when the instance that took it over owns it. Null for the others.
    /// </summary>
    public DateTimeOffset? DueAt { get; private set; }

    /// <summary>This event at position <paramref name="sequence"/> (a copy when that is not its position already).</summary>
    public DeliveryEvent Numbered(int sequence) =>
        Sequence == sequence ? this : new DeliveryEvent(At, Kind, Detail, DueAt, sequence);
}

/// <summary>A delivery's state, folded from its history: each event applies as the domain's rule that recorded it did.</summary>
internal sealed record DeliveryState(
    DeliveryStatus Status,
    int Attempts,
    string? LastError,
    bool ClientGone,
    DateTimeOffset? AcceptedAt,
    DateTimeOffset? AcknowledgedAt,
    DateTimeOffset UpdatedAt,
    DateTimeOffset? NextAttemptAt)
{
    public static DeliveryState Fold(DateTimeOffset createdAt, IReadOnlyList<DeliveryEvent> events)
    {
        var status = DeliveryStatus.Pending;
        var attempts = 0;
        string? lastError = null;
        var clientGone = false;
        DateTimeOffset? acceptedAt = null, acknowledgedAt = null;
        var updatedAt = createdAt;
        DateTimeOffset? nextAttemptAt = createdAt;
        foreach (var e in events)
        {
            var pending = status == DeliveryStatus.Pending;
            switch (e.Kind)
            {
                case DeliveryEventKind.Accepted when pending:
                    (status, attempts, acceptedAt, lastError, nextAttemptAt) = (DeliveryStatus.Accepted, attempts + 1, e.At, null, null);
                    break;
                case DeliveryEventKind.Retry when pending:
                    (attempts, lastError, nextAttemptAt) = (attempts + 1, e.Detail, e.DueAt ?? e.At);
                    break;
                case DeliveryEventKind.ClientGone or DeliveryEventKind.Failed when pending:
                    (status, attempts, lastError, nextAttemptAt) = (DeliveryStatus.Failed, attempts + 1, e.Detail, null);
                    clientGone = e.Kind == DeliveryEventKind.ClientGone;
                    break;
                case DeliveryEventKind.Expired when pending:
                    (status, nextAttemptAt) = (DeliveryStatus.Expired, null);
                    lastError ??= e.Detail ?? DeliveryErrors.InviteExpired;
                    break;
                case DeliveryEventKind.TakenOver when pending:
                    nextAttemptAt = e.DueAt;
                    break;
                case DeliveryEventKind.Acknowledged when acknowledgedAt is null && status is DeliveryStatus.Pending or DeliveryStatus.Accepted:
                    if (pending)
                    {
                        (status, attempts, lastError, nextAttemptAt) = (DeliveryStatus.Accepted, Math.Max(attempts, 1), null, null);
                    }

                    // The client had the frame by its ack: it was accepted no later than that.
                    acceptedAt = acceptedAt is { } accepted && accepted <= e.At ? accepted : e.At;
                    acknowledgedAt = e.At;
                    break;
                default:
                    // What the rule that records it would have refused (a late result after the end): no change.
                    continue;
            }

            updatedAt = e.At;
        }

        return new DeliveryState(status, attempts, lastError, clientGone, acceptedAt, acknowledgedAt, updatedAt, nextAttemptAt);
    }
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
