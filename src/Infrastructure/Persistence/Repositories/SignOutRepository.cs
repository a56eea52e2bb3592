using CallNotify.Application.Common.Ports;
using CallNotify.Domain.Common;
using CallNotify.Infrastructure.Persistence.Presence;
using Microsoft.EntityFrameworkCore;

namespace CallNotify.Infrastructure.Persistence.Repositories;

/// <summary>The identities' last sign-outs (<c>sign_outs</c>), EF Core on both stores.</summary>
internal sealed class SignOutRepository(IDbContextFactory<CallNotifyDbContext> contexts) : ISignOuts
{
    public async Task RecordAsync(AccountSid accountSid, ClientIdentity identity, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        for (var attempt = 1; ; attempt++)
        {
            // A later sign-out moves the mark forward; an earlier one (a clock behind) leaves it.
            var updated = await db.Set<SignOutRecord>()
                .Where(s => s.AccountSid == accountSid.Value && s.Identity == identity.Value)
                .ExecuteUpdateAsync(u => u.SetProperty(s => s.SignedOutAt, s => s.SignedOutAt > at ? s.SignedOutAt : at), cancellationToken);
            if (updated > 0)
            {
                return;
            }

            db.Set<SignOutRecord>().Add(new SignOutRecord { AccountSid = accountSid.Value, Identity = identity.Value, SignedOutAt = at });
            try
            {
                await db.SaveChangesAsync(cancellationToken);
                return;
            }
            catch (DbUpdateException ex) when (StoreErrors.IsUniqueViolation(ex) && attempt == 1)
            {
                // Another sign-out of the same identity inserted the row first: move it instead.
                db.ChangeTracker.Clear();
            }
        }
    }

    public async Task<DateTimeOffset?> LastAsync(AccountSid accountSid, ClientIdentity identity, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var record = await db.Set<SignOutRecord>().AsNoTracking()
            .FirstOrDefaultAsync(s => s.AccountSid == accountSid.Value && s.Identity == identity.Value, cancellationToken);
        return record?.SignedOutAt;
    }

    public async Task<IReadOnlyList<SignOut>> SinceAsync(DateTimeOffset since, int limit, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        return await db.Set<SignOutRecord>().AsNoTracking()
            .Where(s => s.SignedOutAt >= since)
            .OrderBy(s => s.SignedOutAt)
            .Take(limit)
            .Select(s => new SignOut(s.AccountSid, s.Identity, s.SignedOutAt))
            .ToListAsync(cancellationToken);
    }
}
