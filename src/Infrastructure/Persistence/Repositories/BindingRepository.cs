using System.Security.Cryptography;
using System.Text;
using CallNotify.Application.Common.Exceptions;
using CallNotify.Application.Common.Ports;
using CallNotify.Domain.Bindings;
using CallNotify.Domain.Common;
using CallNotify.Infrastructure.Persistence.Configurations;
using Microsoft.EntityFrameworkCore;

namespace CallNotify.Infrastructure.Persistence.Repositories;

internal sealed class BindingRepository(IDbContextFactory<CallNotifyDbContext> contexts) : IBindingRepository
{
    public async Task<Binding?> GetAsync(string id, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        return await db.Bindings.AsNoTracking().FirstOrDefaultAsync(b => b.Id == id, cancellationToken);
    }

    public async Task<Binding?> FindByAddressAsync(ChannelKind channel, string address, CancellationToken cancellationToken)
    {
        var hash = HashAddress(address);
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        return await db.Bindings.AsNoTracking()
            .Where(b => b.Channel == channel && EF.Property<string>(b, BindingConfiguration.AddressHash) == hash)
            .FirstOrDefaultAsync(b => b.Address == PushAddress.Restore(address), cancellationToken);
    }

    public async Task<IReadOnlyList<Binding>> FindActiveAsync(AccountSid accountSid, ClientIdentity identity, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        return await db.Bindings.AsNoTracking()
            .Where(Binding.ServingCalleeAt(accountSid, identity, now))
            .OrderBy(b => b.Id)
            .ToListAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<Binding>> ListAsync(BindingQuery query, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var bindings = db.Bindings.AsNoTracking();
        if (query.AccountSid is { } account)
        {
            bindings = bindings.Where(b => b.AccountSid == account);
        }

        if (query.Identity is { } identity)
        {
            bindings = bindings.Where(b => b.Identity == identity);
        }

        if (query.Channel is { } channel)
        {
            bindings = bindings.Where(b => b.Channel == channel);
        }

        if (query.Status is { } status)
        {
            bindings = bindings.Where(b => b.Status == status);
        }

        if (query.AfterId is { } after)
        {
            bindings = bindings.Where(b => string.Compare(b.Id, after) > 0);
        }

        return await bindings.OrderBy(b => b.Id).Take(query.Limit).ToListAsync(cancellationToken);
    }

    public async Task AddAsync(Binding binding, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        db.Bindings.Add(binding).Property(BindingConfiguration.AddressHash).CurrentValue = HashAddress(binding.Address.Value);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException ex) when (StoreErrors.IsUniqueViolation(ex))
        {
            throw new ConflictException("A binding for this channel and address already exists.", ex);
        }
    }

    public async Task<Binding?> UpdateAsync(string id, Func<Binding, bool> change, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var binding = await db.Bindings.FirstOrDefaultAsync(b => b.Id == id, cancellationToken);
        if (binding is not null && change(binding))
        {
            await db.SaveChangesAsync(cancellationToken);
        }

        return binding;
    }

    public async Task<bool> DeleteAsync(string id, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        return await db.Bindings.Where(b => b.Id == id).ExecuteDeleteAsync(cancellationToken) > 0;
    }

    public async Task<int> DeleteAllAsync(AccountSid accountSid, ClientIdentity identity, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        return await db.Bindings
            .Where(b => b.AccountSid == accountSid && b.Identity == identity)
            .ExecuteDeleteAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<string>> FindExpiredActiveAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        return await db.Bindings.AsNoTracking()
            .Where(b => b.Status == BindingStatus.Active && b.ExpiresAt <= now)
            .OrderBy(b => b.Id)
            .Select(b => b.Id)
            .Take(limit)
            .ToListAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<(AccountSid AccountSid, ClientIdentity Identity)>> FindCrowdedIdentitiesAsync(int max, int limit, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var crowded = await db.Bindings.AsNoTracking()
            .Where(b => b.Status == BindingStatus.Active)
            .GroupBy(b => new { b.AccountSid, b.Identity })
            .Where(g => g.Count() > max)
            .Select(g => g.Key)
            .OrderBy(k => k.AccountSid)
            .ThenBy(k => k.Identity)
            .Take(limit)
            .ToListAsync(cancellationToken);
        return [.. crowded.Select(k => (k.AccountSid, k.Identity))];
    }

    internal static string HashAddress(string address) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(address)));
}
