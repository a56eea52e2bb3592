using CallNotify.Domain.Common;

namespace CallNotify.Domain.Notifications;

/// <summary>One client's share of a call notification: a binding's push, or a live session's frame.</summary>
public sealed class Delivery
{
    public const int MaxErrorLength = 500;

    private readonly List<DeliveryEvent> _events = [];

    // For EF Core.
    private Delivery()
    {
        Id = string.Empty;
        NotificationId = string.Empty;
    }

    public string Id { get; private set; }

    public string NotificationId { get; private set; }

    public string? BindingId { get; private set; }

    public string? SessionId { get; private set; }

    public ChannelKind Channel { get; private set; }

    public DeliveryStatus Status { get; private set; }

    public int Attempts { get; private set; }

    public string? LastError { get; private set; }

    /// <summary>True when the failure says the client is gone for good (dead token, closed session).</summary>
    public bool ClientGone { get; private set; }

    public DateTimeOffset? AcceptedAt { get; private set; }

    public DateTimeOffset? AcknowledgedAt { get; private set; }

    public DateTimeOffset UpdatedAt { get; private set; }

    /// <summary>
    /// When the next attempt is due while the delivery is pending (null once final). The instance that dispatched it
    /// attempts then; an instance that finds it long overdue takes it over (the first one died).
    /// </summary>
    public DateTimeOffset? NextAttemptAt { get; private set; }

    /// <summary>The delivery's history, oldest first.</summary>
    public IReadOnlyList<DeliveryEvent> Events => _events;

    public bool IsFinal => Status != DeliveryStatus.Pending;

    internal static Delivery ForTarget(string notificationId, DeliveryTarget target, DateTimeOffset now) => new()
    {
        Id = Ids.New(Ids.DeliveryPrefix, now),
        NotificationId = notificationId,
        BindingId = target.BindingId,
        SessionId = target.SessionId,
        Channel = target.Channel,
        Status = DeliveryStatus.Pending,
        UpdatedAt = now,
        NextAttemptAt = now,
    };

    /// <summary>Rebuilds a delivery exactly as stored (see <see cref="CallNotification.Restore"/>).</summary>
    public static Delivery Restore(
        string id,
        string notificationId,
        string? bindingId,
        string? sessionId,
        ChannelKind channel,
        DeliveryStatus status,
        int attempts,
        string? lastError,
        bool clientGone,
        DateTimeOffset? acceptedAt,
        DateTimeOffset? acknowledgedAt,
        DateTimeOffset updatedAt,
        DateTimeOffset? nextAttemptAt,
        IEnumerable<DeliveryEvent> events)
    {
        var delivery = new Delivery
        {
            Id = id,
            NotificationId = notificationId,
            BindingId = bindingId,
            SessionId = sessionId,
            Channel = channel,
            Status = status,
            Attempts = attempts,
            LastError = lastError,
            ClientGone = clientGone,
            AcceptedAt = acceptedAt,
            AcknowledgedAt = acknowledgedAt,
            UpdatedAt = updatedAt,
            NextAttemptAt = nextAttemptAt,
        };
        delivery._events.AddRange(events);
        return delivery;
    }

    /// <summary>Applies one attempt's result. A final delivery does not change again.</summary>
    internal bool Apply(DeliveryResult result, DateTimeOffset now, DateTimeOffset? retryAt = null)
    {
        if (IsFinal)
        {
            return false;
        }

        Attempts++;
        UpdatedAt = now;
        switch (result.Kind)
        {
            case DeliveryResultKind.Accepted:
                Status = DeliveryStatus.Accepted;
                AcceptedAt = now;
                LastError = null;
                Record(now, DeliveryEventKind.Accepted, null);
                break;
            case DeliveryResultKind.Retry:
                LastError = Truncate(result.Reason);
                NextAttemptAt = retryAt ?? now + (result.RetryAfter ?? TimeSpan.Zero);
                Record(now, DeliveryEventKind.Retry, LastError);
                break;
            case DeliveryResultKind.ClientGone:
                Status = DeliveryStatus.Failed;
                ClientGone = true;
                LastError = Truncate(result.Reason);
                Record(now, DeliveryEventKind.ClientGone, LastError);
                break;
            case DeliveryResultKind.Failed:
                Status = DeliveryStatus.Failed;
                LastError = Truncate(result.Reason);
                Record(now, DeliveryEventKind.Failed, LastError);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(result), result.Kind, null);
        }

        if (IsFinal)
        {
            NextAttemptAt = null;
        }

        return true;
    }

    /// <summary>
    /// Another instance takes over a pending delivery whose next attempt was due by <paramref name="dueBy"/> and never
    /// happened: it owns the delivery until <paramref name="leaseUntil"/>. False when it is final or not that late.
    /// </summary>
    internal bool TakeOver(DateTimeOffset dueBy, DateTimeOffset leaseUntil, DateTimeOffset now)
    {
        if (IsFinal || NextAttemptAt is not { } due || due > dueBy)
        {
            return false;
        }

        NextAttemptAt = leaseUntil;
        UpdatedAt = now;
        Record(now, DeliveryEventKind.TakenOver, null);
        return true;
    }

    internal bool Expire(DateTimeOffset now)
    {
        if (IsFinal)
        {
            return false;
        }

        Status = DeliveryStatus.Expired;
        NextAttemptAt = null;
        LastError ??= DeliveryErrors.InviteExpired;
        UpdatedAt = now;
        Record(now, DeliveryEventKind.Expired, DeliveryErrors.InviteExpired);
        return true;
    }

    internal bool Acknowledge(DateTimeOffset now)
    {
        if (AcknowledgedAt is not null || Status is DeliveryStatus.Failed or DeliveryStatus.Expired)
        {
            return false;
        }

        // The client has the frame: its ack may overtake the record of the write that sent it.
        if (Status == DeliveryStatus.Pending)
        {
            Status = DeliveryStatus.Accepted;
            AcceptedAt = now;
            Attempts = Math.Max(Attempts, 1);
            NextAttemptAt = null;
            LastError = null;
            Record(now, DeliveryEventKind.Accepted, null);
        }
        else if (AcceptedAt > now)
        {
            // The record of the write came after the ack's time: the client had the frame by then, so it was
            // accepted no later than that.
            AcceptedAt = now;
        }

        AcknowledgedAt = now;
        UpdatedAt = now;
        Record(now, DeliveryEventKind.Acknowledged, null);
        return true;
    }

    private void Record(DateTimeOffset at, DeliveryEventKind kind, string? detail) => _events.Add(new DeliveryEvent(at, kind, detail));

    private static string? Truncate(string? reason) =>
        reason is null ? null : Text.Truncate(reason, MaxErrorLength);
}

/// <summary>Who a notification goes to: a binding (push) or a live session (WebSocket).</summary>
public sealed record DeliveryTarget(ChannelKind Channel, string? BindingId, string? SessionId)
{
    public static DeliveryTarget ForBinding(string bindingId, ChannelKind channel) => new(channel, bindingId, null);

    public static DeliveryTarget ForSession(string sessionId) => new(ChannelKind.WebSocket, null, sessionId);
}
