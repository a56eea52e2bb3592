using CallNotify.Domain.Common;
using CallNotify.Domain.Notifications;

namespace CallNotify.Infrastructure.Persistence.Postgres;

/// <summary>
/// The last state this instance wrote of its most recent notifications, so recording a delivery's result or an ack
/// need not read back what was just written. Only ever a starting point: a write from a stale entry appends an event
/// whose (delivery, sequence) is taken, which costs one failed write and a fresh read. Copies go in and out; nothing is shared.
/// </summary>
/// <remarks>
/// One lock around plain collections: every operation is a few dictionary steps, and the concurrent collections'
/// <c>Count</c> takes all of their locks, which on this path cost more than the work itself (docs/decisions/0013).
/// </remarks>
internal sealed class RecentNotifications(int capacity = RecentNotifications.DefaultCapacity)
{
    /// <summary>
    /// The newest notifications kept. Results and acks come within milliseconds of the record, a few hundred
    /// notifications later at most (<c>callnotify_store_recent_recalls_total</c> counts hits and misses). A larger cache
    /// keeps each entry alive across several garbage collections, so every notification was promoted to the oldest
    /// generation and died there: with 4,096, two or three gen-2 collections every 5 s and about 30 % more webhook p99
    /// (bench/history.md, 2026-12-02). The number of collections an entry survives depends on this count, not on the
    /// rate: both the allocations that trigger a collection and the entries that push one out grow with the webhooks.
    /// </summary>
    public const int DefaultCapacity = 256;

    private readonly Lock _lock = new();
    private readonly Dictionary<string, CallNotification> _byId = new(StringComparer.Ordinal);
    private readonly Dictionary<(AccountSid AccountSid, string TwiMessageId), string> _idByMessage = [];
    private readonly Queue<string> _order = new();

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _byId.Count;
            }
        }
    }

    public void Remember(CallNotification notification)
    {
        var copy = notification.Copy();
        lock (_lock)
        {
            if (_byId.TryAdd(notification.Id, copy))
            {
                _idByMessage[(notification.AccountSid, notification.TwiMessageId)] = notification.Id;
                _order.Enqueue(notification.Id);
                while (_byId.Count > capacity && _order.TryDequeue(out var oldest))
                {
                    if (_byId.Remove(oldest, out var evicted))
                    {
                        _idByMessage.Remove((evicted.AccountSid, evicted.TwiMessageId));
                    }
                }
            }
            else
            {
                _byId[notification.Id] = copy;
            }
        }
    }

    public CallNotification? Recall(string id)
    {
        CallNotification? known;
        lock (_lock)
        {
            _byId.TryGetValue(id, out known);
        }

        // Entries are never changed once stored (a new state replaces them), so copying outside the lock is safe.
        return known is null ? null : known.Copy();
    }

    /// <summary>The id of the notification recorded for (account, twi_message_id), when it is remembered.</summary>
    public string? IdOf(AccountSid accountSid, string twiMessageId)
    {
        lock (_lock)
        {
            return _idByMessage.TryGetValue((accountSid, twiMessageId), out var id) ? id : null;
        }
    }

    public void Forget(string id)
    {
        lock (_lock)
        {
            if (_byId.Remove(id, out var forgotten))
            {
                _idByMessage.Remove((forgotten.AccountSid, forgotten.TwiMessageId));
            }
        }
    }
}
