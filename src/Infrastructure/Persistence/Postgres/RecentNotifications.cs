using System.Collections.Concurrent;
using CallNotify.Domain.Notifications;

namespace CallNotify.Infrastructure.Persistence.Postgres;

/// <summary>
/// The last state this instance wrote of its most recent notifications, so recording a delivery's result or an ack
/// need not read back what was just written. Only ever a starting point: every write is checked against the stored
/// version, and a stale entry costs one failed check and a fresh read. Copies go in and out; nothing is shared.
/// </summary>
internal sealed class RecentNotifications(int capacity = RecentNotifications.DefaultCapacity)
{
    public const int DefaultCapacity = 4096;

    private readonly ConcurrentDictionary<string, CallNotification> _byId = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _order = new();

    public int Count => _byId.Count;

    public void Remember(CallNotification notification)
    {
        var copy = Copy(notification);
        if (_byId.TryAdd(notification.Id, copy))
        {
            _order.Enqueue(notification.Id);
            while (_byId.Count > capacity && _order.TryDequeue(out var oldest))
            {
                _byId.TryRemove(oldest, out _);
            }
        }
        else
        {
            _byId[notification.Id] = copy;
        }
    }

    public CallNotification? Recall(string id) => _byId.TryGetValue(id, out var known) ? Copy(known) : null;

    public void Forget(string id) => _byId.TryRemove(id, out _);

    private static CallNotification Copy(CallNotification n) => CallNotification.Restore(
        n.Id,
        n.AccountSid,
        n.TwiMessageId,
        n.CallSid,
        n.From,
        n.To,
        n.Identity,
        n.MessageType,
        n.RawBody,
        n.ReceivedAt,
        n.ExpiresAt,
        n.Outcome,
        n.Version,
        n.Deliveries.Select(d => Delivery.Restore(
            d.Id,
            d.NotificationId,
            d.BindingId,
            d.SessionId,
            d.Channel,
            d.Status,
            d.Attempts,
            d.LastError,
            d.ClientGone,
            d.AcceptedAt,
            d.AcknowledgedAt,
            d.UpdatedAt,
            d.NextAttemptAt)));
}
