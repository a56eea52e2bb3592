using CallNotify.Application.Common.Ports;
using CallNotify.Domain.Common;
using Npgsql;

namespace CallNotify.Infrastructure.WebSockets.Instances;

/// <summary>How quickly instances notice each other, and each other's deaths.</summary>
internal static class PresenceTimings
{
    /// <summary>How often an instance writes its heartbeat.</summary>
    public static readonly TimeSpan HeartbeatInterval = TimeSpan.FromSeconds(2);

    /// <summary>A session counts only while its instance's heartbeat is younger than this.</summary>
    public static readonly TimeSpan Freshness = TimeSpan.FromSeconds(10);

    /// <summary>Instances silent for this long are deleted, with their sessions.</summary>
    public static readonly TimeSpan Purge = TimeSpan.FromMinutes(1);

    /// <summary>How often an instance purges dead instances and reconciles its own rows with its live sessions.</summary>
    public static readonly TimeSpan Housekeeping = TimeSpan.FromSeconds(30);
}

/// <summary>
/// The sessions of every instance on one PostgreSQL database: <c>live_sessions</c> rows, counted only while the
/// owning instance's row in <c>instances</c> has a fresh heartbeat. Times are the database's clock, one clock for all.
/// </summary>
public sealed class PostgresPresence(NpgsqlDataSource dataSource, ServiceInstance instance) : ILiveSessionRegistry, ISessionPresence
{
    /// <summary>The one rule of a fresh session, on its instance <c>i</c>: a heartbeat younger than $1 seconds.</summary>
    internal const string FreshHeartbeat = "i.heartbeat_at > now() - make_interval(secs => $1)";

    /// <summary>Sessions on instances whose heartbeat is younger than $1 seconds.</summary>
    private const string FreshSessions = """
        FROM live_sessions s JOIN instances i ON i.id = s.instance_id
        WHERE
        """ + " " + FreshHeartbeat;

    /// <summary>The live sessions of ($2 account, $3 identity) on instances with a fresh heartbeat.</summary>
    private const string FindSql =
        "SELECT s.id, s.instance_id, s.account_sid, s.\"identity\", s.connected_at " + FreshSessions +
        " AND s.account_sid = $2 AND s.\"identity\" = $3 ORDER BY s.id";

    public async Task<IReadOnlyList<LiveSession>> FindAsync(AccountSid accountSid, ClientIdentity identity, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(FindSql);
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

    /// <summary>The rows of <see cref="FindSql"/> from the reader's current result.</summary>
    private static async Task<IReadOnlyList<LiveSession>> ReadSessionsAsync(NpgsqlDataReader reader, CancellationToken cancellationToken)
    {
        var sessions = new List<LiveSession>();
        while (await reader.ReadAsync(cancellationToken))
        {
            sessions.Add(ReadSession(reader, 0));
        }

        return sessions;
    }

    /// <summary>A session from the reader's current row, its columns in <see cref="FindSql"/>'s order from <paramref name="first"/>.</summary>
    internal static LiveSession ReadSession(NpgsqlDataReader reader, int first) => new(
        reader.GetString(first),
        reader.GetString(first + 1),
        reader.GetString(first + 2),
        reader.GetString(first + 3),
        reader.GetFieldValue<DateTimeOffset>(first + 4));

    /// <summary>The instance holding <paramref name="sessionId"/>, or null when no live instance does.</summary>
    public async Task<string?> LocateAsync(string sessionId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(InstanceOfSql);
        command.Parameters.Add(new NpgsqlParameter { Value = PresenceTimings.Freshness.TotalSeconds });
        command.Parameters.Add(new NpgsqlParameter { Value = sessionId });
        return await command.ExecuteScalarAsync(cancellationToken) as string;
    }

    public async Task RegisterAsync(WebSocketSession session, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(InsertSql);
        AddSessionParameters(command, session);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task UnregisterAsync(WebSocketSession session, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(DeleteSessionSql);
        command.Parameters.AddWithValue("id", session.Id);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Writes this instance's heartbeat. True when its row had to be created (first beat, or purged meanwhile).</summary>
    internal async Task<bool> BeatAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(HeartbeatSql);
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
        await using (var select = dataSource.CreateCommand(SessionsOfInstanceSql))
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
        var missing = local.All.Where(s => !storedSet.Contains(s.Id)).ToList();
        if (stale.Length == 0 && missing.Count == 0)
        {
            return;
        }

        await using var batch = dataSource.CreateBatch();
        if (stale.Length > 0)
        {
            var delete = new NpgsqlBatchCommand(DeleteSessionsSql);
            delete.Parameters.AddWithValue("ids", stale);
            batch.BatchCommands.Add(delete);
        }

        foreach (var session in missing)
        {
            var insert = new NpgsqlBatchCommand(InsertSql);
            AddSessionParameters(insert.Parameters, session);
            batch.BatchCommands.Add(insert);
        }

        await batch.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Deletes instances whose heartbeat stopped long ago, and every session of an instance that is not there.</summary>
    internal async Task PurgeDeadInstancesAsync(CancellationToken cancellationToken)
    {
        await using var batch = dataSource.CreateBatch();
        var instances = new NpgsqlBatchCommand(PurgeInstancesSql);
        instances.Parameters.AddWithValue("purge", PresenceTimings.Purge.TotalSeconds);
        batch.BatchCommands.Add(instances);
        batch.BatchCommands.Add(new NpgsqlBatchCommand(PurgeOrphanSessionsSql));
        await batch.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Graceful stop: this instance and its sessions leave the store at once.</summary>
    internal async Task LeaveAsync(CancellationToken cancellationToken)
    {
        await using var batch = dataSource.CreateBatch();
        var sessions = new NpgsqlBatchCommand(DeleteInstanceSessionsSql);
        sessions.Parameters.AddWithValue("id", instance.Id);
        var self = new NpgsqlBatchCommand(DeleteInstanceSql);
        self.Parameters.AddWithValue("id", instance.Id);
        batch.BatchCommands.Add(sessions);
        batch.BatchCommands.Add(self);
        await batch.ExecuteNonQueryAsync(cancellationToken);
    }

    private const string InstanceOfSql = "SELECT s.instance_id " + FreshSessions + " AND s.id = $2";

    private const string DeleteSessionSql = "DELETE FROM live_sessions WHERE id = @id";

    private const string HeartbeatSql = """
        INSERT INTO instances (id, heartbeat_at) VALUES (@id, now())
        ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at
        RETURNING (xmax = 0)
        """;

    private const string SessionsOfInstanceSql = "SELECT id FROM live_sessions WHERE instance_id = @instance";

    private const string DeleteSessionsSql = "DELETE FROM live_sessions WHERE id = ANY(@ids)";

    private const string PurgeInstancesSql = "DELETE FROM instances WHERE heartbeat_at < now() - make_interval(secs => @purge)";

    private const string PurgeOrphanSessionsSql =
        "DELETE FROM live_sessions s WHERE NOT EXISTS (SELECT 1 FROM instances i WHERE i.id = s.instance_id)";

    private const string DeleteInstanceSessionsSql = "DELETE FROM live_sessions WHERE instance_id = @id";

    private const string DeleteInstanceSql = "DELETE FROM instances WHERE id = @id";

    private const string InsertSql = """
        INSERT INTO live_sessions (id, instance_id, account_sid, "identity", connected_at)
        VALUES (@id, @instance, @account, @identity, @connected)
        ON CONFLICT (id) DO NOTHING
        """;

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
