using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.EntityFrameworkCore.Design;

namespace CallNotify.Infrastructure.Persistence;

/// <summary>Lets <c>dotnet ef migrations add … --context PostgresCallNotifyDbContext</c> build the model without a server.</summary>
internal sealed class PostgresDesignTimeFactory : IDesignTimeDbContextFactory<PostgresCallNotifyDbContext>
{
    public PostgresCallNotifyDbContext CreateDbContext(string[] args) =>
        new((DbContextOptions<PostgresCallNotifyDbContext>)new DbContextOptionsBuilder<PostgresCallNotifyDbContext>()
            .UseCallNotifyPostgres("Host=localhost;Database=callnotify")
            .Options);
}

internal sealed class SqliteDesignTimeFactory : IDesignTimeDbContextFactory<SqliteCallNotifyDbContext>
{
    public SqliteCallNotifyDbContext CreateDbContext(string[] args) =>
        new((DbContextOptions<SqliteCallNotifyDbContext>)new DbContextOptionsBuilder<SqliteCallNotifyDbContext>()
            .UseCallNotifySqlite("Data Source=design-time.db")
            .Options);
}

/// <summary>How each provider is set up for the store: the same in the service, at design time and in tests.</summary>
public static class ProviderOptions
{
    public static DbContextOptionsBuilder UseCallNotifyPostgres(this DbContextOptionsBuilder builder, string connectionString)
    {
        // A notification's deliveries and their events load in one query: a handful of rows, not a cartesian explosion.
        builder.UseNpgsql(connectionString, npgsql => npgsql.MigrationsHistoryTable("__ef_migrations_history").UseQuerySplittingBehavior(QuerySplittingBehavior.SingleQuery))
            .UseSnakeCaseNamingConvention();
        return builder;
    }

    public static DbContextOptionsBuilder UseCallNotifySqlite(this DbContextOptionsBuilder builder, string connectionString)
    {
        builder.UseSqlite(connectionString, sqlite => sqlite.MigrationsHistoryTable("__ef_migrations_history").UseQuerySplittingBehavior(QuerySplittingBehavior.SingleQuery))
            .UseSnakeCaseNamingConvention()

            // SQLite drops a column by rebuilding its table, outside the migration's transaction (foreign keys off), after
            // the data steps that read the old columns: migration AppendOnlyDeliveries is written that way on purpose, and
            // DeliveryHistoryMigrationTests checks the data it leaves. EF Core's warnings about that order would be printed
            // at every first start of a new store.
            .ConfigureWarnings(w => w.Ignore(SqliteEventId.TableRebuildPendingWarning, RelationalEventId.NonTransactionalMigrationOperationWarning));
        return builder;
    }
}
