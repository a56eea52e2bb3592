using CallNotify.Domain.Bindings;
using CallNotify.Domain.Notifications;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace CallNotify.Infrastructure.Persistence;

/// <summary>
/// The one model of the store. Each provider has its own subclass so that it has its own migrations
/// (<c>Migrations/Postgres</c>, <c>Migrations/Sqlite</c>).
/// </summary>
public abstract class CallNotifyDbContext(DbContextOptions options) : DbContext(options)
{
    public DbSet<Binding> Bindings => Set<Binding>();

    public DbSet<CallNotification> Notifications => Set<CallNotification>();

    public DbSet<Delivery> Deliveries => Set<Delivery>();

    protected override void OnModelCreating(ModelBuilder modelBuilder) =>
        modelBuilder.ApplyConfigurationsFromAssembly(typeof(CallNotifyDbContext).Assembly);
}

public sealed class PostgresCallNotifyDbContext(DbContextOptions<PostgresCallNotifyDbContext> options) : CallNotifyDbContext(options);

public sealed class SqliteCallNotifyDbContext(DbContextOptions<SqliteCallNotifyDbContext> options) : CallNotifyDbContext(options)
{
    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        // SQLite has no timestamp type: store instants as sortable integers so they can be compared and ordered.
        configurationBuilder.Properties<DateTimeOffset>().HaveConversion<DateTimeOffsetToBinaryConverter>();
    }
}
