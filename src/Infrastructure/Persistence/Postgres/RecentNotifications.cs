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
    private readonly ConcurrentDictionary<(string AccountSid, string TwiMessageId), string> _idByMessage = new();
    private readonly ConcurrentQueue<string> _order = new();

    public int Count => _byId.Count;

    public void Remember(CallNotification notification)
    {
        var copy = Copy(notification);
        if (_byId.TryAdd(notification.Id, copy))
        {
            _idByMessage[(notification.AccountSid, notification.TwiMessageId)] = notification.Id;
            _order.Enqueue(notification.Id);
            while (_byId.Count > capacity && _order.TryDequeue(out var oldest))
            {
                if (_byId.TryRemove(oldest, out var evicted))
                {
                    _idByMessage.TryRemove((evicted.AccountSid, evicted.TwiMessageId), out _);
                }
            }
        }
        else
        {
            _byId[notification.Id] = copy;
        }
    }

    public CallNotification? Recall(string id) => _byId.TryGetValue(id, out var known) ? Copy(known) : null;

    /// <summary>The id of the notification recorded for (account, twi_message_id), when it is remembered.</summary>
    public string? IdOf(string accountSid, string twiMessageId) =>
        _idByMessage.TryGetValue((accountSid, twiMessageId), out var id) ? id : null;

    public void Forget(string id)
    {
        if (_byId.TryRemove(id, out var forgotten))
        {
            _idByMessage.TryRemove((forgotten.AccountSid, forgotten.TwiMessageId), out _);
        }
    }

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
