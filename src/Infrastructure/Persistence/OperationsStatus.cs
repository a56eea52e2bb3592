using CallNotify.Application.Common.Ports;
using CallNotify.Infrastructure.Persistence.Postgres;
using CallNotify.Infrastructure.Persistence.Presence;
using CallNotify.Infrastructure.WebSockets;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace CallNotify.Infrastructure.Persistence;

/// <summary>PostgreSQL: the instances with a fresh heartbeat and their sessions, in one round trip.</summary>
internal sealed class PostgresOperationsStatus(NpgsqlDataSource dataSource) : IOperationsStatus
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(2);

    public async Task<StoreStatus> StoreAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(Timeout);
            await using var command = dataSource.CreateCommand(PresenceSql.CountAliveSql);
            command.Parameters.Add(new NpgsqlParameter { Value = PresenceTimings.Freshness.TotalSeconds });
            await using var reader = await command.ExecuteReaderAsync(deadline.Token);
            await reader.ReadAsync(deadline.Token);
            return new StoreStatus("postgres", true, (int)reader.GetInt64(0), (int)reader.GetInt64(1));
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException or OperationCanceledException
                                   && !cancellationToken.IsCancellationRequested)
        {
            return new StoreStatus("postgres", false, null, null);
        }
    }
}

/// <summary>SQLite: one instance, this one; its sessions are the registry's.</summary>
internal sealed class SqliteOperationsStatus(IDbContextFactory<CallNotifyDbContext> contexts, WebSocketSessionRegistry sessions) : IOperationsStatus
{
    public async Task<StoreStatus> StoreAsync(CancellationToken cancellationToken)
    {
        bool reachable;
        try
        {
            await using var db = await contexts.CreateDbContextAsync(cancellationToken);
            reachable = await db.Database.CanConnectAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is System.Data.Common.DbException or InvalidOperationException)
        {
            reachable = false;
        }

        return new StoreStatus("sqlite", reachable, reachable ? 1 : null, reachable ? sessions.Count : null);
    }
}
