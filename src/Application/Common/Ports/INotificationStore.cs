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
    /// The webhook's record: looks up the callee's clients at the call's arrival and records the call with delivery
    /// number <c>i</c> to client <c>i</c> (active bindings by id, then live sessions by id), unless (account,
    /// twi_message_id) is already recorded or remembered. Cancelling stops the wait, not the write. This default is the
    /// lookup, then <see cref="TryAddAsync"/>; on PostgreSQL one group-committed statement does both, so the webhook
    /// waits for one round trip instead of two.
    /// </summary>
    async Task<CallRecording> RecordAsync(IncomingCall incoming, CancellationToken cancellationToken)
    {
        var (bindings, sessions) = await FindCalleesAsync(incoming.AccountSid, incoming.Identity, incoming.ReceivedAt, cancellationToken);
        if (bindings.Count == 0 && sessions.Count == 0)
        {
            return CallRecording.NoClients;
        }

        Binding[] byId = [.. bindings.OrderBy(b => b.Id, StringComparer.Ordinal)];
        var notification = incoming.Ring(CallRecording.Targets(byId, [.. sessions.OrderBy(s => s.SessionId, StringComparer.Ordinal)]));
        return await TryAddAsync(notification, cancellationToken) ? CallRecording.Recorded(notification, byId) : CallRecording.AlreadyKnown;
    }

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

/// <summary>What <see cref="INotificationStore.RecordAsync"/> did with a call.</summary>
public enum CallRecordingKind
{
    /// <summary>Recorded, with a delivery to each client the callee had.</summary>
    Recorded,

    /// <summary>The callee has no client: nothing was recorded.</summary>
    NoClients,

    /// <summary>(account, twi_message_id) was already recorded or remembered: nothing was recorded again.</summary>
    AlreadyKnown,
}

/// <param name="Notification">The recorded notification, when <see cref="Kind"/> is <see cref="CallRecordingKind.Recorded"/>.</param>
/// <param name="Bindings">The active bindings its deliveries go to, as read with it: their first attempts need no other read.</param>
public sealed record CallRecording(CallRecordingKind Kind, CallNotification? Notification, IReadOnlyList<Binding> Bindings)
{
    public static readonly CallRecording NoClients = new(CallRecordingKind.NoClients, null, []);

    public static readonly CallRecording AlreadyKnown = new(CallRecordingKind.AlreadyKnown, null, []);

    public static CallRecording Recorded(CallNotification notification, IReadOnlyList<Binding> bindings) =>
        new(CallRecordingKind.Recorded, notification, bindings);

    /// <summary>One target per client, in the order of the store's contract: the bindings, then the sessions.</summary>
    public static List<DeliveryTarget> Targets(IReadOnlyList<Binding> bindings, IReadOnlyList<LiveSession> sessions) =>
    [
        .. bindings.Select(b => DeliveryTarget.ForBinding(b.Id, b.Channel)),
        .. sessions.Select(s => DeliveryTarget.ForSession(s.SessionId)),
    ];
}

/// <summary>A pending delivery whose next attempt was due at <paramref name="DueAt"/> and did not happen.</summary>
public sealed record StalledDelivery(string NotificationId, string DeliveryId, DateTimeOffset DueAt);

public sealed record NotificationQuery(
    AccountSid? AccountSid,
    ClientIdentity? Identity,
    string? CallSid,
    string? BeforeId,
    int Limit);
