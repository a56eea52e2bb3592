using CallNotify.Domain.Bindings;
using CallNotify.Domain.Common;
using CallNotify.Domain.Notifications;

namespace CallNotify.Application.Common.Ports;

/// <summary>
/// The store of the webhook's and the delivery pipeline's path: look up a callee's clients, record a notification,
/// append its deliveries' events, find overdue work. Every method is its own unit of work, safe to call from any
/// thread. On PostgreSQL it is plain Npgsql with group-committed writes; on SQLite, EF Core (docs/decisions/0021).
/// </summary>
public interface INotificationStore
{
    /// <summary>Everyone a notification for (<paramref name="accountSid"/>, <paramref name="identity"/>) goes to at <paramref name="now"/>.</summary>
    Task<CalleeClients> FindCalleesAsync(AccountSid accountSid, ClientIdentity identity, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>
    /// Records the notification with its deliveries; false when (account, twi_message_id) is already recorded, or
    /// remembered (<see cref="TryRememberAsync"/>, or a purged record's).
    /// </summary>
    Task<bool> TryAddAsync(CallNotification notification, CancellationToken cancellationToken);

    /// <summary>
    /// Remembers the outcome of a message answered without a record (nobody to ring), so that a repeat, however much
    /// later within <c>Retention:MessageIdDays</c>, is answered from it and rings nobody. No body is kept. False when
    /// (account, twi_message_id) is already recorded or remembered.
    /// </summary>
    Task<bool> TryRememberAsync(AccountSid accountSid, string twiMessageId, NotificationOutcome outcome, DateTimeOffset at, CancellationToken cancellationToken);

    /// <summary>The remembered outcome of (account, twi_message_id) whose record is gone or never was; null when none.</summary>
    Task<NotificationOutcome?> FindRememberedAsync(AccountSid accountSid, string twiMessageId, CancellationToken cancellationToken);

    Task<CallNotification?> FindAsync(AccountSid accountSid, string twiMessageId, CancellationToken cancellationToken);

    /// <summary>
    /// Loads the notification, applies <paramref name="change"/> and, when it changed anything, appends the events it
    /// recorded; when another writer appended a delivery's next event first, applies the change again to the fresh
    /// state. Null when absent. Throws <see cref="Exceptions.ConflictException"/> when it keeps losing.
    /// </summary>
    Task<CallNotification?> UpdateAsync(string id, Func<CallNotification, bool> change, CancellationToken cancellationToken);

    /// <summary>
    /// <see cref="UpdateAsync(string, Func{CallNotification, bool}, CancellationToken)"/> for the notification recorded for
    /// (<paramref name="accountSid"/>, <paramref name="twiMessageId"/>). Null when there is none.
    /// </summary>
    async Task<CallNotification?> UpdateAsync(
        AccountSid accountSid, string twiMessageId, Func<CallNotification, bool> change, CancellationToken cancellationToken) =>
        await FindAsync(accountSid, twiMessageId, cancellationToken) is { } found
            ? await UpdateAsync(found.Id, change, cancellationToken)
            : null;

    /// <summary>
    /// Pending deliveries whose next attempt fell due after <paramref name="dueAfter"/> and by <paramref name="dueBy"/>,
    /// soonest due first, at most <paramref name="limit"/>: a scan that moves its window forward reads each delivery's
    /// due time once, so its cost follows the traffic since the last scan, not the table.
    /// </summary>
    Task<IReadOnlyList<StalledDelivery>> FindStalledAsync(
        DateTimeOffset dueAfter, DateTimeOffset dueBy, int limit, CancellationToken cancellationToken);

    /// <summary>Notes that a push to the binding was accepted at <paramref name="at"/>; nothing happens when it is gone.</summary>
    Task RecordBindingDeliveryAsync(string bindingId, DateTimeOffset at, CancellationToken cancellationToken);
}

/// <summary>The recorded notifications as the admin API and the sweeper read them: EF Core on both stores.</summary>
public interface INotificationHistory
{
    /// <summary>Newest first, before <see cref="NotificationQuery.BeforeId"/>.</summary>
    Task<IReadOnlyList<CallNotification>> ListAsync(NotificationQuery query, CancellationToken cancellationToken);

    Task<CallNotification?> FindAsync(AccountSid accountSid, string twiMessageId, CancellationToken cancellationToken);

    /// <summary>
    /// Deletes at most <paramref name="limit"/> notifications received before <paramref name="cutoff"/>, with their
    /// deliveries; each one's outcome is remembered first, so its message id outlives its body.
    /// </summary>
    Task<int> PurgeReceivedBeforeAsync(DateTimeOffset cutoff, int limit, CancellationToken cancellationToken);

    /// <summary>Forgets at most <paramref name="limit"/> remembered outcomes recorded before <paramref name="cutoff"/>.</summary>
    Task<int> ForgetRememberedBeforeAsync(DateTimeOffset cutoff, int limit, CancellationToken cancellationToken);
}

/// <param name="Bindings">Active, unexpired bindings of the callee.</param>
/// <param name="Sessions">Live sessions of the callee on any instance.</param>
public sealed record CalleeClients(IReadOnlyList<Binding> Bindings, IReadOnlyList<LiveSession> Sessions);

/// <summary>A pending delivery whose next attempt was due at <paramref name="DueAt"/> and did not happen.</summary>
public sealed record StalledDelivery(string NotificationId, string DeliveryId, DateTimeOffset DueAt);

public sealed record NotificationQuery(
    AccountSid? AccountSid,
    ClientIdentity? Identity,
    string? CallSid,
    string? BeforeId,
    int Limit);
