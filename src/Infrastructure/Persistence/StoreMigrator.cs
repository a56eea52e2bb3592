using CallNotify.Infrastructure.Configuration;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.Extensions.Logging;

namespace CallNotify.Infrastructure.Persistence;

/// <summary>Brings the store's schema up to date: at start-up, or on its own with the Api's <c>migrate</c> command.</summary>
public sealed class StoreMigrator(IDbContextFactory<CallNotifyDbContext> contexts, StoreConnection store, ILogger<StoreMigrator> logger)
{
    public async Task MigrateAsync(CancellationToken cancellationToken)
    {
        if (store.Provider == StorageProvider.Sqlite)
        {
            var path = new SqliteConnectionStringBuilder(store.ConnectionString).DataSource;
            if (Path.GetDirectoryName(path) is { Length: > 0 } directory)
            {
                Directory.CreateDirectory(directory);
            }
        }

        await using var db = await contexts.CreateDbContextAsync(cancellationToken);

        // The history table first: EF Core's migrator reads it before creating it, and logs the failed read of a new
        // PostgreSQL database as an error.
        await db.GetService<IHistoryRepository>().CreateIfNotExistsAsync(cancellationToken);
        var pending = (await PendingAsync(db, cancellationToken)).ToList();
        if (pending.Count > 0)
        {
            logger.LogInformation("Applying {Count} migration(s) to {Store}: {Migrations}", pending.Count, store.Describe(), string.Join(", ", pending));
        }

        await db.Database.MigrateAsync(cancellationToken);
        if (store.Provider == StorageProvider.Sqlite)
        {
            // Readers do not block the writer; the setting stays with the database file.
            await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", cancellationToken);
        }
    }

    /// <summary>True when the store answers and no migration is pending.</summary>
    public async Task<(bool Reachable, int PendingMigrations)> CheckAsync(CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        if (!await db.Database.CanConnectAsync(cancellationToken))
        {
            return (false, 0);
        }

        var pending = await PendingAsync(db, cancellationToken);
        return (true, pending.Count());
    }

    /// <summary>
    /// The migrations not applied yet. On a store without a history table every one is, and asking EF Core would log
    /// its failed query of that table as an error on every first start.
    /// </summary>
    private static async Task<IEnumerable<string>> PendingAsync(CallNotifyDbContext db, CancellationToken cancellationToken) =>
        await db.GetService<IHistoryRepository>().ExistsAsync(cancellationToken)
            ? await db.Database.GetPendingMigrationsAsync(cancellationToken)
            : db.Database.GetMigrations();
}
