using Microsoft.EntityFrameworkCore;

namespace CallNotify.Infrastructure.Persistence;

/// <summary>Serves the provider's context type wherever the provider-neutral <see cref="CallNotifyDbContext"/> is asked for.</summary>
internal sealed class DbContextFactoryAdapter<TContext>(IDbContextFactory<TContext> inner) : IDbContextFactory<CallNotifyDbContext>
    where TContext : CallNotifyDbContext
{
    public CallNotifyDbContext CreateDbContext() => inner.CreateDbContext();

    public async Task<CallNotifyDbContext> CreateDbContextAsync(CancellationToken cancellationToken = default) =>
        await inner.CreateDbContextAsync(cancellationToken);
}
