using CallNotify.Application.Common.Ports;
using CallNotify.Domain.Common;
using CallNotify.Domain.Notifications;

namespace CallNotify.Tests.Fakes;

/// <summary>
/// The notification store in memory: (account, twi_message_id) is unique, every read is a detached copy, and
/// updates are applied one at a time (as the real stores' conflict retries end up doing). The callee lookup and the
/// delivery stamp go to <paramref name="bindings"/> and <paramref name="sessions"/> when given.
/// </summary>
public sealed class InMemoryNotificationRepository(InMemoryBindingRepository? bindings = null, ILiveSessionRegistry? sessions = null)
    : INotificationStore, INotificationHistory
{
    private readonly Lock _gate = new();
    private readonly List<CallNotification> _rows = [];
    private readonly Dictionary<(AccountSid Account, string MessageId), (NotificationOutcome Outcome, DateTimeOffset At)> _remembered = [];

    /// <summary>How many notifications are recorded.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _rows.Count;
            }
        }
    }

    /// <summary>Copies of every recorded notification, in the order they were recorded.</summary>
    public IReadOnlyList<CallNotification> All
    {
        get
        {
            lock (_gate)
            {
                return [.. _rows.Select(Snapshot.Of)];
            }
        }
    }

    public async Task<CalleeClients> FindCalleesAsync(AccountSid accountSid, ClientIdentity identity, DateTimeOffset now, CancellationToken cancellationToken) =>
        new(bindings is null ? [] : await bindings.FindActiveAsync(accountSid, identity, now, cancellationToken),
            sessions is null ? [] : await sessions.FindAsync(accountSid, identity, cancellationToken));

    public Task RecordBindingDeliveryAsync(string bindingId, DateTimeOffset at, CancellationToken cancellationToken) =>
        bindings?.RecordDeliveryAsync(bindingId, at, cancellationToken) ?? Task.CompletedTask;

    public Task<bool> TryAddAsync(CallNotification notification, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            if (_remembered.ContainsKey((notification.AccountSid, notification.TwiMessageId))
                || _rows.Any(n => n.Id == notification.Id
                    || (n.AccountSid == notification.AccountSid && n.TwiMessageId == notification.TwiMessageId)))
            {
                return Task.FromResult(false);
            }

            _rows.Add(Snapshot.Of(notification));
            return Task.FromResult(true);
        }
    }

    public Task<bool> TryRememberAsync(AccountSid accountSid, string twiMessageId, NotificationOutcome outcome, DateTimeOffset at, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            if (_rows.Any(n => n.AccountSid == accountSid && n.TwiMessageId == twiMessageId))
            {
                return Task.FromResult(false);
            }

            return Task.FromResult(_remembered.TryAdd((accountSid, twiMessageId), (outcome, at)));
        }
    }

    public Task<NotificationOutcome?> FindRememberedAsync(AccountSid accountSid, string twiMessageId, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            return Task.FromResult<NotificationOutcome?>(_remembered.TryGetValue((accountSid, twiMessageId), out var remembered) ? remembered.Outcome : null);
        }
    }

    public Task<int> ForgetRememberedBeforeAsync(DateTimeOffset cutoff, int limit, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            var doomed = _remembered.Where(r => r.Value.At < cutoff).OrderBy(r => r.Value.At).Take(limit).Select(r => r.Key).ToList();
            foreach (var key in doomed)
            {
                _remembered.Remove(key);
            }

            return Task.FromResult(doomed.Count);
        }
    }

    public Task<CallNotification?> FindAsync(AccountSid accountSid, string twiMessageId, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            var row = _rows.Find(n => n.AccountSid == accountSid && n.TwiMessageId == twiMessageId);
            return Task.FromResult(row is null ? null : Snapshot.Of(row));
        }
    }

    public Task<IReadOnlyList<CallNotification>> ListAsync(NotificationQuery query, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            IReadOnlyList<CallNotification> found =
            [
                .. _rows
                    .Where(n => query.AccountSid is null || n.AccountSid == query.AccountSid)
                    .Where(n => query.Identity is null || n.Identity == query.Identity)
                    .Where(n => query.CallSid is null || n.CallSid == query.CallSid)
                    .Where(n => query.BeforeId is null || string.CompareOrdinal(n.Id, query.BeforeId) < 0)
                    .OrderByDescending(n => n.Id, StringComparer.Ordinal)
                    .Take(query.Limit)
                    .Select(Snapshot.Of),
            ];
            return Task.FromResult(found);
        }
    }

    /// <summary>Runs before each update by id is applied: a test can let time pass, as a slow store would.</summary>
    public Action? BeforeUpdate { get; set; }

    public Task<CallNotification?> UpdateAsync(string id, Func<CallNotification, bool> change, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        BeforeUpdate?.Invoke();
        lock (_gate)
        {
            var index = _rows.FindIndex(n => n.Id == id);
            if (index < 0)
            {
                return Task.FromResult<CallNotification?>(null);
            }

            var working = Snapshot.Of(_rows[index]);
            if (change(working))
            {
                _rows[index] = Snapshot.Of(working);
            }

            return Task.FromResult<CallNotification?>(working);
        }
    }

    public Task<int> PurgeReceivedBeforeAsync(DateTimeOffset cutoff, int limit, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            var doomed = _rows.Where(n => n.ReceivedAt < cutoff).OrderBy(n => n.ReceivedAt).Take(limit).ToList();
            foreach (var notification in doomed)
            {
                _rows.Remove(notification);
                var outcome = notification.Outcome == NotificationOutcome.Pending ? NotificationOutcome.Failed : notification.Outcome;
                _remembered.TryAdd((notification.AccountSid, notification.TwiMessageId), (outcome, notification.ReceivedAt));
            }

            return Task.FromResult(doomed.Count);
        }
    }

    public Task<IReadOnlyList<StalledDelivery>> FindStalledAsync(DateTimeOffset dueAfter, DateTimeOffset dueBy, int limit, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            IReadOnlyList<StalledDelivery> found =
            [
                .. _rows.SelectMany(n => n.Deliveries)
                    .Where(d => d.Status == DeliveryStatus.Pending && d.NextAttemptAt > dueAfter && d.NextAttemptAt <= dueBy)
                    .OrderBy(d => d.NextAttemptAt)
                    .Take(limit)
                    .Select(d => new StalledDelivery(d.NotificationId, d.Id, d.NextAttemptAt!.Value)),
            ];
            return Task.FromResult(found);
        }
    }
}
