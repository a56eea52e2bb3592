using CallNotify.Application.Common.Exceptions;
using CallNotify.Application.Common.Ports;
using CallNotify.Domain.Common;
using CallNotify.Domain.Notifications;
using CallNotify.Infrastructure.Persistence.Presence;
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
        if (await IsRememberedAsync(db, notification.AccountSid.Value, notification.TwiMessageId, cancellationToken))
        {
            return false;
        }

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

    public async Task<bool> TryRememberAsync(
        AccountSid accountSid, string twiMessageId, NotificationOutcome outcome, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        if (await db.Notifications.AnyAsync(n => n.AccountSid == accountSid && n.TwiMessageId == twiMessageId, cancellationToken))
        {
            return false;
        }

        db.Set<MessageIdRecord>().Add(Remembered(accountSid.Value, twiMessageId, outcome, at));
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

    public async Task<NotificationOutcome?> FindRememberedAsync(AccountSid accountSid, string twiMessageId, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var outcome = await db.Set<MessageIdRecord>().AsNoTracking()
            .Where(m => m.AccountSid == accountSid.Value && m.TwiMessageId == twiMessageId)
            .Select(m => m.Outcome)
            .FirstOrDefaultAsync(cancellationToken);
        return outcome is null ? null : NotificationWire.ParseOutcome(outcome);
    }

    public async Task<int> ForgetRememberedBeforeAsync(DateTimeOffset cutoff, int limit, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var oldest = await db.Set<MessageIdRecord>().AsNoTracking()
            .Where(m => m.RecordedAt < cutoff)
            .OrderBy(m => m.RecordedAt)
            .Select(m => m.TwiMessageId)
            .Take(limit)
            .ToListAsync(cancellationToken);

        // Every row these ids name in any account is as old or older than the cutoff says: all of them go.
        return oldest.Count == 0
            ? 0
            : await db.Set<MessageIdRecord>().Where(m => m.RecordedAt < cutoff && oldest.Contains(m.TwiMessageId)).ExecuteDeleteAsync(cancellationToken);
    }

    private static Task<bool> IsRememberedAsync(CallNotifyDbContext db, string accountSid, string twiMessageId, CancellationToken cancellationToken) =>
        db.Set<MessageIdRecord>().AnyAsync(m => m.AccountSid == accountSid && m.TwiMessageId == twiMessageId, cancellationToken);

    /// <summary>A message id's outcome as remembered: a purged record still pending never will be decided, so it failed.</summary>
    private static MessageIdRecord Remembered(string accountSid, string twiMessageId, NotificationOutcome outcome, DateTimeOffset at) => new()
    {
        AccountSid = accountSid,
        TwiMessageId = twiMessageId,
        Outcome = (outcome == NotificationOutcome.Pending ? NotificationOutcome.Failed : outcome).ToWire(),
        RecordedAt = at,
    };

    public async Task<CallNotification?> FindAsync(AccountSid accountSid, string twiMessageId, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        return await db.Notifications.AsNoTracking()
            .Include(n => n.Deliveries)
            .FirstOrDefaultAsync(n => n.AccountSid == accountSid && n.TwiMessageId == twiMessageId, cancellationToken);
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
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await PurgeBatchAsync(cutoff, limit, cancellationToken);
            }
            catch (DbUpdateException ex) when (StoreErrors.IsUniqueViolation(ex) && attempt < MaxConflictRetries)
            {
                // Another sweeper (another instance, or this one's timer) remembered and purged the same records first;
                // its transaction is over, so the next read sees what is left.
            }
        }
    }

    private async Task<int> PurgeBatchAsync(DateTimeOffset cutoff, int limit, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var oldest = await db.Notifications.AsNoTracking()
            .Include(n => n.Deliveries)
            .Where(n => n.ReceivedAt < cutoff)
            .OrderBy(n => n.ReceivedAt)
            .Take(limit)
            .ToListAsync(cancellationToken);
        if (oldest.Count == 0)
        {
            return 0;
        }

        // The message ids outlive the bodies: each outcome is remembered, in the same transaction as the delete.
        var ids = oldest.Select(n => n.Id).ToList();
        var messageIds = oldest.Select(n => n.TwiMessageId).Distinct().ToList();
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var known = (await db.Set<MessageIdRecord>().AsNoTracking()
                .Where(m => messageIds.Contains(m.TwiMessageId))
                .Select(m => new { m.AccountSid, m.TwiMessageId })
                .ToListAsync(cancellationToken))
            .Select(m => (m.AccountSid, m.TwiMessageId))
            .ToHashSet();
        db.Set<MessageIdRecord>().AddRange(oldest
            .Where(n => !known.Contains((n.AccountSid.Value, n.TwiMessageId)))
            .Select(n => Remembered(n.AccountSid.Value, n.TwiMessageId, n.Outcome, n.ReceivedAt)));
        await db.SaveChangesAsync(cancellationToken);

        // Deliveries and their events go with their notification: by ON DELETE CASCADE on SQLite, by a statement trigger
        // on PostgreSQL, whose hot-path tables carry no foreign key (ADR 0030).
        var deleted = await db.Notifications.Where(n => ids.Contains(n.Id)).ExecuteDeleteAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return deleted;
    }
}
