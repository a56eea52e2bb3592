using CallNotify.Application.Common.Exceptions;
using CallNotify.Application.Common.Ports;
using CallNotify.Domain.Common;
using CallNotify.Domain.Notifications;
using Microsoft.EntityFrameworkCore;

namespace CallNotify.Infrastructure.Persistence.Repositories;

/// <summary>
/// The notification store in EF Core: on SQLite all of it (<see cref="INotificationStore"/> and
/// <see cref="INotificationHistory"/>); on PostgreSQL the admin reads and the purge (the webhook's path is
/// <see cref="Postgres.PostgresNotificationStore"/>'s there).
/// </summary>
internal sealed class NotificationRepository(
    IDbContextFactory<CallNotifyDbContext> contexts,
    BindingRepository bindings,
    ILiveSessionRegistry sessions) : INotificationStore, INotificationHistory
{
    private const int MaxConflictRetries = 10;

    public async Task<CalleeClients> FindCalleesAsync(AccountSid accountSid, ClientIdentity identity, DateTimeOffset now, CancellationToken cancellationToken) =>
        new(await bindings.FindActiveAsync(accountSid, identity, now, cancellationToken),
            await sessions.FindAsync(accountSid, identity, cancellationToken));

    public async Task RecordBindingDeliveryAsync(string bindingId, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        await db.Bindings.Where(b => b.Id == bindingId)
            .ExecuteUpdateAsync(s => s.SetProperty(b => b.LastDeliveryAt, at), cancellationToken);
    }

    public async Task<bool> TryAddAsync(CallNotification notification, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        db.Notifications.Add(notification);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
            return true;
        }
        catch (DbUpdateException ex) when (StoreErrors.IsUniqueViolation(ex))
        {
            return false;
        }
    }

    public async Task<CallNotification?> FindAsync(AccountSid accountSid, string twiMessageId, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        return await db.Notifications.AsNoTracking()
            .Include(n => n.Deliveries)
            .FirstOrDefaultAsync(n => n.AccountSid == accountSid.Value && n.TwiMessageId == twiMessageId, cancellationToken);
    }

    public async Task<IReadOnlyList<CallNotification>> ListAsync(NotificationQuery query, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var notifications = db.Notifications.AsNoTracking();
        if (query.AccountSid is { } account)
        {
            notifications = notifications.Where(n => n.AccountSid == account);
        }

        if (query.Identity is { } identity)
        {
            notifications = notifications.Where(n => n.Identity == identity);
        }

        if (query.CallSid is { } callSid)
        {
            notifications = notifications.Where(n => n.CallSid == callSid);
        }

        if (query.BeforeId is { } before)
        {
            notifications = notifications.Where(n => string.Compare(n.Id, before) < 0);
        }

        return await notifications
            .OrderByDescending(n => n.Id)
            .Take(query.Limit)
            .Include(n => n.Deliveries)
            .AsSplitQuery()
            .ToListAsync(cancellationToken);
    }

    public async Task<CallNotification?> UpdateAsync(string id, Func<CallNotification, bool> change, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            await using var db = await contexts.CreateDbContextAsync(cancellationToken);
            var notification = await db.Notifications
                .Include(n => n.Deliveries)
                .FirstOrDefaultAsync(n => n.Id == id, cancellationToken);
            if (notification is null || !change(notification))
            {
                return notification;
            }

            // Only the appended events are written (the state is theirs, ADR 0021).
            try
            {
                await db.SaveChangesAsync(cancellationToken);
                return notification;
            }
            catch (DbUpdateException ex) when (StoreErrors.IsUniqueViolation(ex))
            {
                // Another writer appended that delivery's next event first: apply the change to the fresh state.
                if (attempt >= MaxConflictRetries)
                {
                    throw new ConflictException($"Notification {id} kept changing under {MaxConflictRetries} attempts to update it.", ex);
                }
            }
        }
    }

    public async Task<IReadOnlyList<StalledDelivery>> FindStalledAsync(
        DateTimeOffset dueAfter, DateTimeOffset dueBy, int limit, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);

        // The candidates: created in the window (due then if never attempted), or with an event due in it (a retry, a
        // lease). Whether each is still pending, and due when, is its history's fold, as everywhere else.
        var candidates = await db.Deliveries.AsNoTracking()
            .Where(d => (d.CreatedAt > dueAfter && d.CreatedAt <= dueBy) || d.Events.Any(e => e.DueAt > dueAfter && e.DueAt <= dueBy))
            .ToListAsync(cancellationToken);
        return [.. candidates
            .Where(d => d.Status == DeliveryStatus.Pending && d.NextAttemptAt > dueAfter && d.NextAttemptAt <= dueBy)
            .Select(d => new StalledDelivery(d.NotificationId, d.Id, d.NextAttemptAt!.Value))
            .OrderBy(s => s.DueAt).ThenBy(s => s.DeliveryId, StringComparer.Ordinal)
            .Take(limit)];
    }

    public async Task<int> PurgeReceivedBeforeAsync(DateTimeOffset cutoff, int limit, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var oldest = db.Notifications.Where(n => n.ReceivedAt < cutoff).OrderBy(n => n.ReceivedAt).Select(n => n.Id).Take(limit);

        // Deliveries go with their notification (ON DELETE CASCADE).
        return await db.Notifications.Where(n => oldest.Contains(n.Id)).ExecuteDeleteAsync(cancellationToken);
    }
}
