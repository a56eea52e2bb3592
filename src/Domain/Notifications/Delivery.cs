using CallNotify.Domain.Common;

namespace CallNotify.Domain.Notifications;

/// <summary>
/// One client's share of a call notification: a binding's push, or a live session's frame. What is stored is who it
/// goes to and its history (<see cref="Events"/>); its state (status, attempts, last error, times) is folded from
/// that history, so recording a change appends one event and rewrites nothing (docs/decisions/0021).
/// </summary>
public sealed class Delivery
{
    public const int MaxErrorLength = 500;

    private readonly List<DeliveryEvent> _events = [];

    // The fold of _events, made again whenever the history has grown since (EF Core fills the list after construction).
    private DeliveryState? _state;
    private int _foldedCount = -1;

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

    /// <summary>When the delivery was created (its notification's arrival): its first attempt is due then.</summary>
    public DateTimeOffset CreatedAt { get; private set; }

    public DeliveryStatus Status => State.Status;

    /// <summary>Attempts made: every result recorded, and an ack that overtook its send's result.</summary>
    public int Attempts => State.Attempts;

    public string? LastError => State.LastError;

    /// <summary>True when the failure says the client is gone for good (dead token, closed session).</summary>
    public bool ClientGone => State.ClientGone;

    public DateTimeOffset? AcceptedAt => State.AcceptedAt;

    public DateTimeOffset? AcknowledgedAt => State.AcknowledgedAt;

    /// <summary>When the last event happened (<see cref="CreatedAt"/> before the first).</summary>
    public DateTimeOffset UpdatedAt => State.UpdatedAt;

    /// <summary>
    /// When the next attempt is due while the delivery is pending (null once final). The instance that dispatched it
    /// attempts then; an instance that finds it long overdue takes it over (the first one died).
    /// </summary>
    public DateTimeOffset? NextAttemptAt => State.NextAttemptAt;

    /// <summary>The delivery's history, oldest first; an event's <see cref="DeliveryEvent.Sequence"/> is its position (1-based).</summary>
    public IReadOnlyList<DeliveryEvent> Events => InSequence();

    public bool IsFinal => Status != DeliveryStatus.Pending;

    private DeliveryState State
    {
        get
        {
            if (_state is null || _foldedCount != _events.Count)
            {
                _state = DeliveryState.Fold(CreatedAt, InSequence());
                _foldedCount = _events.Count;
            }

            return _state;
        }
    }

    /// <summary>The history in order: a store may hand it over in any (EF Core fills an owned collection as rows come).</summary>
    private List<DeliveryEvent> InSequence()
    {
        for (var i = 1; i < _events.Count; i++)
        {
            if (_events[i - 1].Sequence > _events[i].Sequence)
            {
                _events.Sort((x, y) => x.Sequence.CompareTo(y.Sequence));
                break;
            }
        }

        return _events;
    }

    /// <summary>Delivery number <paramref name="ordinal"/> (from 0) of its notification: its id is numbered from the notification's.</summary>
    internal static Delivery ForTarget(string notificationId, int ordinal, DeliveryTarget target, DateTimeOffset now) => new()
    {
        Id = Ids.Numbered(Ids.DeliveryPrefix, notificationId, ordinal),
        NotificationId = notificationId,
        BindingId = target.BindingId,
        SessionId = target.SessionId,
        Channel = target.Channel,
        CreatedAt = now,
    };

    /// <summary>
    /// Rebuilds a delivery as stored: who it goes to, and its history in order (numbered 1, 2, … as stored). See
    /// <see cref="CallNotification.Restore"/>.
    /// </summary>
    public static Delivery Restore(
        string id,
        string notificationId,
        string? bindingId,
        string? sessionId,
        ChannelKind channel,
        DateTimeOffset createdAt,
        IEnumerable<DeliveryEvent> events)
    {
        var delivery = new Delivery
        {
            Id = id,
            NotificationId = notificationId,
            BindingId = bindingId,
            SessionId = sessionId,
            Channel = channel,
            CreatedAt = createdAt,
        };
        foreach (var e in events)
        {
            delivery._events.Add(e.Numbered(delivery._events.Count + 1));
        }

        return delivery;
    }

    /// <summary>
    /// This delivery as it is now, sharing nothing that changes: its events (which never change) and its folded state
    /// (a record) are shared, its history list is its own.
    /// </summary>
    internal Delivery Copy()
    {
        var copy = Restore(Id, NotificationId, BindingId, SessionId, Channel, CreatedAt, []);
        copy._state = _state;
        copy._foldedCount = _foldedCount;
        copy._events.AddRange(InSequence());
        return copy;
    }

    /// <summary>Applies one attempt's result. A final delivery does not change again.</summary>
    internal bool Apply(DeliveryResult result, DateTimeOffset now, DateTimeOffset? retryAt = null)
    {
        if (IsFinal)
        {
            return false;
        }

        switch (result.Kind)
        {
            case DeliveryResultKind.Accepted:
                Record(now, DeliveryEventKind.Accepted, null);
                break;
            case DeliveryResultKind.Retry:
                Record(now, DeliveryEventKind.Retry, Truncate(result.Reason), retryAt ?? now + (result.RetryAfter ?? TimeSpan.Zero));
                break;
            case DeliveryResultKind.ClientGone:
                Record(now, DeliveryEventKind.ClientGone, Truncate(result.Reason));
                break;
            case DeliveryResultKind.Failed:
                Record(now, DeliveryEventKind.Failed, Truncate(result.Reason));
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(result), result.Kind, null);
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

        Record(now, DeliveryEventKind.TakenOver, null, leaseUntil);
        return true;
    }

    internal bool Expire(DateTimeOffset now)
    {
        if (IsFinal)
        {
            return false;
        }

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
            Record(now, DeliveryEventKind.Accepted, null);
        }

        Record(now, DeliveryEventKind.Acknowledged, null);
        return true;
    }

    private void Record(DateTimeOffset at, DeliveryEventKind kind, string? detail, DateTimeOffset? dueAt = null) =>
        _events.Add(new DeliveryEvent(at, kind, detail, dueAt, _events.Count + 1));

    private static string? Truncate(string? reason) =>
        reason is null ? null : Text.Truncate(reason, MaxErrorLength);
}

/// <summary>Who a notification goes to: a binding (push) or a live session (WebSocket).</summary>
public sealed record DeliveryTarget(ChannelKind Channel, string? BindingId, string? SessionId)
{
    public static DeliveryTarget ForBinding(string bindingId, ChannelKind channel) => new(channel, bindingId, null);

    public static DeliveryTarget ForSession(string sessionId) => new(ChannelKind.WebSocket, null, sessionId);
}
