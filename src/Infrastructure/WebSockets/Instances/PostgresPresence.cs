using CallNotify.Application.Common.Ports;
using CallNotify.Domain.Common;
using CallNotify.Infrastructure.Persistence.Postgres;
using CallNotify.Infrastructure.Persistence.Presence;
using Npgsql;

namespace CallNotify.Infrastructure.WebSockets.Instances;

/// <summary>
/// The sessions of every instance on one PostgreSQL database: <c>live_sessions</c> rows, counted only while the
/// owning instance's row in <c>instances</c> has a fresh heartbeat. Times are the database's clock, one clock for all.
/// </summary>
public sealed class PostgresPresence(NpgsqlDataSource dataSource, ServiceInstance instance) : ILiveSessionRegistry, ISessionPresence
{
    public async Task<IReadOnlyList<LiveSession>> FindAsync(AccountSid accountSid, ClientIdentity identity, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(PresenceSql.FindSql);
        AddFindParameters(command.Parameters, accountSid, identity);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await ReadSessionsAsync(reader, cancellationToken);
    }

    private static void AddFindParameters(NpgsqlParameterCollection parameters, AccountSid accountSid, ClientIdentity identity)
    {
        parameters.Add(new NpgsqlParameter { Value = PresenceTimings.Freshness.TotalSeconds });
        parameters.Add(new NpgsqlParameter { Value = accountSid.Value });
        parameters.Add(new NpgsqlParameter { Value = identity.Value });
    }

    /// <summary>The rows of <see cref="PresenceSql.FindSql"/> from the reader's current result.</summary>
    private static async Task<IReadOnlyList<LiveSession>> ReadSessionsAsync(NpgsqlDataReader reader, CancellationToken cancellationToken)
    {
        var sessions = new List<LiveSession>();
        while (await reader.ReadAsync(cancellationToken))
        {
            sessions.Add(StoreColumns.ReadSession(reader, 0));
        }

        return sessions;
    }

    /// <summary>The instance holding <paramref name="sessionId"/>, or null when no live instance does.</summary>
    public async Task<string?> LocateAsync(string sessionId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(PresenceSql.InstanceOfSql);
        command.Parameters.Add(new NpgsqlParameter { Value = PresenceTimings.Freshness.TotalSeconds });
        command.Parameters.Add(new NpgsqlParameter { Value = sessionId });
        return await command.ExecuteScalarAsync(cancellationToken) as string;
    }

    public async Task RegisterAsync(WebSocketSession session, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(PresenceSql.InsertSql);
        AddSessionParameters(command, session);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task UnregisterAsync(WebSocketSession session, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(PresenceSql.DeleteSessionSql);
        command.Parameters.AddWithValue("id", session.Id);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task ForgetConnectedByAsync(string accountSid, string identity, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(PresenceSql.DeleteIdentitySessionsSql);
        command.Parameters.AddWithValue("account", accountSid);
        command.Parameters.AddWithValue("identity", identity);
        command.Parameters.AddWithValue("at", at.ToUniversalTime());
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Writes this instance's heartbeat. True when its row had to be created (first beat, or purged meanwhile).</summary>
    internal async Task<bool> BeatAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(PresenceSql.HeartbeatSql);
        command.Parameters.AddWithValue("id", instance.Id);
        return await command.ExecuteScalarAsync(cancellationToken) is true;
    }

    /// <summary>
    /// Makes the store's rows of this instance match its live sessions: inserts the missing ones, deletes those whose
    /// connection is over (their removal failed). A row seen in the store was inserted after its session joined the
    /// local registry, so a row whose session is not in the registry when checked afterwards is stale.
    /// </summary>
    internal async Task ReconcileAsync(WebSocketSessionRegistry local, CancellationToken cancellationToken)
    {
        var stored = new List<string>();
        await using (var select = dataSource.CreateCommand(PresenceSql.SessionsOfInstanceSql))
        {
            select.Parameters.AddWithValue("instance", instance.Id);
            await using var reader = await select.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                stored.Add(reader.GetString(0));
            }
        }

        var stale = stored.Where(id => local.Get(id) is null).ToArray();
        var storedSet = stored.ToHashSet(StringComparer.Ordinal);

        // A session the server is ending stays out (a sign-out may have removed its row).
        var missing = local.All.Where(s => !storedSet.Contains(s.Id) && s.EndReason is null).ToList();
        if (stale.Length == 0 && missing.Count == 0)
        {
            return;
        }

        await using var batch = dataSource.CreateBatch();
        if (stale.Length > 0)
        {
            var delete = new NpgsqlBatchCommand(PresenceSql.DeleteSessionsSql);
            delete.Parameters.AddWithValue("ids", stale);
            batch.BatchCommands.Add(delete);
        }

        foreach (var session in missing)
        {
            var insert = new NpgsqlBatchCommand(PresenceSql.InsertSql);
            AddSessionParameters(insert.Parameters, session);
            batch.BatchCommands.Add(insert);
        }

        await batch.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Deletes instances whose heartbeat stopped long ago, and every session of an instance that is not there.</summary>
    internal async Task PurgeDeadInstancesAsync(CancellationToken cancellationToken)
    {
        await using var batch = dataSource.CreateBatch();
        var instances = new NpgsqlBatchCommand(PresenceSql.PurgeInstancesSql);
        instances.Parameters.AddWithValue("purge", PresenceTimings.Purge.TotalSeconds);
        batch.BatchCommands.Add(instances);
        batch.BatchCommands.Add(new NpgsqlBatchCommand(PresenceSql.PurgeOrphanSessionsSql));
        await batch.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Graceful stop: this instance and its sessions leave the store at once.</summary>
    internal async Task LeaveAsync(CancellationToken cancellationToken)
    {
        await using var batch = dataSource.CreateBatch();
        var sessions = new NpgsqlBatchCommand(PresenceSql.DeleteInstanceSessionsSql);
        sessions.Parameters.AddWithValue("id", instance.Id);
        var self = new NpgsqlBatchCommand(PresenceSql.DeleteInstanceSql);
        self.Parameters.AddWithValue("id", instance.Id);
        batch.BatchCommands.Add(sessions);
        batch.BatchCommands.Add(self);
        await batch.ExecuteNonQueryAsync(cancellationToken);
    }

    private void AddSessionParameters(NpgsqlCommand command, WebSocketSession session) => AddSessionParameters(command.Parameters, session);

    private void AddSessionParameters(NpgsqlParameterCollection parameters, WebSocketSession session)
    {
        parameters.AddWithValue("id", session.Id);
        parameters.AddWithValue("instance", instance.Id);
        parameters.AddWithValue("account", session.AccountSid);
        parameters.AddWithValue("identity", session.Identity);
        parameters.AddWithValue("connected", session.ConnectedAt.ToUniversalTime());
    }
}
