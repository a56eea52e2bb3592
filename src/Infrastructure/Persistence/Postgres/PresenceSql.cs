namespace CallNotify.Infrastructure.Persistence.Postgres;

/// <summary>
/// The statements of presence (<see cref="WebSockets.Instances.PostgresPresence"/>: live sessions and instance
/// heartbeats) and of the relay between instances (<see cref="WebSockets.Instances.PostgresSessionRelay"/>), kept with the
/// store's other hand-written SQL (<c>HandWrittenSqlTests</c> prepares every one against the model's schema).
/// </summary>
internal static class PresenceSql
{
    /// <summary>The one rule of a fresh session, on its instance <c>i</c>: a heartbeat younger than $1 seconds.</summary>
    internal const string FreshHeartbeat = "i.heartbeat_at > now() - make_interval(secs => $1)";

    /// <summary>Sessions on instances whose heartbeat is younger than $1 seconds.</summary>
    internal const string FreshSessions = """
        FROM live_sessions s JOIN instances i ON i.id = s.instance_id
        WHERE
        """ + " " + FreshHeartbeat;

    /// <summary>The live sessions of ($2 account, $3 identity) on instances with a fresh heartbeat.</summary>
    internal static readonly string FindSql =
        $"SELECT {StoreColumns.Qualified(StoreColumns.Session, "s")} " + FreshSessions + " AND s.account_sid = $2 AND s.\"identity\" = $3 ORDER BY s.id";

    /// <summary>The instances with a heartbeat younger than $1 seconds, and their sessions.</summary>
    internal const string CountAliveSql = "SELECT (SELECT count(*) FROM instances i WHERE " + FreshHeartbeat + "), (SELECT count(*) " + FreshSessions + ")";

    internal const string InstanceOfSql = "SELECT s.instance_id " + FreshSessions + " AND s.id = $2";

    internal const string DeleteSessionSql = "DELETE FROM live_sessions WHERE id = @id";

    /// <summary>Sign-out everywhere: the identity's sessions connected at or before @at, whichever instance holds them.</summary>
    internal const string DeleteIdentitySessionsSql =
        "DELETE FROM live_sessions WHERE account_sid = @account AND \"identity\" = @identity AND connected_at <= @at";

    internal const string HeartbeatSql = """
        INSERT INTO instances (id, heartbeat_at) VALUES (@id, now())
        ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at
        RETURNING (xmax = 0)
        """;

    internal const string SessionsOfInstanceSql = "SELECT id FROM live_sessions WHERE instance_id = @instance";

    internal const string DeleteSessionsSql = "DELETE FROM live_sessions WHERE id = ANY(@ids)";

    internal const string PurgeInstancesSql = "DELETE FROM instances WHERE heartbeat_at < now() - make_interval(secs => @purge)";

    internal const string PurgeOrphanSessionsSql =
        "DELETE FROM live_sessions s WHERE NOT EXISTS (SELECT 1 FROM instances i WHERE i.id = s.instance_id)";

    internal const string DeleteInstanceSessionsSql = "DELETE FROM live_sessions WHERE instance_id = @id";

    internal const string DeleteInstanceSql = "DELETE FROM instances WHERE id = @id";

    internal const string InsertSql = $"""
        INSERT INTO live_sessions ({StoreColumns.Session})
        VALUES (@id, @instance, @account, @identity, @connected)
        ON CONFLICT (id) DO NOTHING
        """;

    /// <summary>The body and message id of a delivery relayed here, read by the instance holding its session.</summary>
    internal const string RelayedBodySql = """
        SELECT n.raw_body, n.twi_message_id FROM deliveries d JOIN call_notifications n ON n.id = d.notification_id
        WHERE d.id = @delivery AND d.session_id = @session
        """;

    /// <summary>Wakes the instance listening on channel @channel with @payload.</summary>
    internal const string NotifySql = "SELECT pg_notify(@channel, @payload)";
}
