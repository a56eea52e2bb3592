using CallNotify.Domain.Common;
using CallNotify.Domain.Notifications;

namespace CallNotify.Application.Common.Ports;

/// <summary>The call-notification store. Every method is its own unit of work, safe to call from any thread.</summary>
public interface INotificationRepository
{
    /// <summary>Records the notification with its deliveries; false when (account, twi_message_id) is already recorded.</summary>
    Task<bool> TryAddAsync(CallNotification notification, CancellationToken cancellationToken);

    Task<CallNotification?> FindAsync(AccountSid accountSid, string twiMessageId, CancellationToken cancellationToken);

    /// <summary>Newest first, before <see cref="NotificationQuery.BeforeId"/>.</summary>
    Task<IReadOnlyList<CallNotification>> ListAsync(NotificationQuery query, CancellationToken cancellationToken);

    /// <summary>
    /// Loads the notification, applies <paramref name="change"/> and saves when it changed anything, trying again
    /// from a fresh read when a concurrent writer got there first. Null when absent.
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
    /// due time once, so its cost follows the traffic since the last scan, not the table (ADR 0021).
    /// </summary>
    Task<IReadOnlyList<StalledDelivery>> FindStalledAsync(
        DateTimeOffset dueAfter, DateTimeOffset dueBy, int limit, CancellationToken cancellationToken);

    /// <summary>Deletes at most <paramref name="limit"/> notifications received before <paramref name="cutoff"/>, with their deliveries.</summary>
    Task<int> PurgeReceivedBeforeAsync(DateTimeOffset cutoff, int limit, CancellationToken cancellationToken);
}

/// <summary>A pending delivery whose next attempt was due at <paramref name="DueAt"/> and did not happen.</summary>
public sealed record StalledDelivery(string NotificationId, string DeliveryId, DateTimeOffset DueAt);

public sealed record NotificationQuery(
    string? AccountSid,
    string? Identity,
    string? CallSid,
    string? BeforeId,
    int Limit);
