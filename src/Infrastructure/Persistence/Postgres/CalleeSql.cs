namespace CallNotify.Infrastructure.Persistence.Postgres;

/// <summary>
/// Who a call rings, in SQL, written once for the callee lookup (<see cref="PostgresCalleeLookup"/>) and the webhook's
/// record (<see cref="NotificationRecord"/>): each is the body of a lateral subquery for one callee row, so each
/// callee's rows are read by an index scan of their own whatever plan PostgreSQL keeps (BatchPlanTests).
/// </summary>
internal static class CalleeSql
{
    /// <summary>
    /// The active, unexpired bindings of the callee row <paramref name="callee"/> (its <c>account_sid</c> and
    /// <c>"identity"</c>) at <paramref name="now"/>, every column.
    /// </summary>
    public static string ActiveBindings(string callee, string now) => $"""
        SELECT * FROM bindings
        WHERE bindings.account_sid = {callee}.account_sid AND bindings."identity" = {callee}."identity"
          AND bindings.status = 'active' AND bindings.expires_at > {now}
        """;

    /// <summary>
    /// The live sessions of the callee row <paramref name="callee"/> on instances with a fresh heartbeat (younger than
    /// <c>$1</c> seconds, <see cref="PresenceSql.FreshHeartbeat"/>), every column of <c>live_sessions</c>.
    /// </summary>
    /// <remarks>
    /// The callee's sessions are read first, on their own (<c>OFFSET 0</c> keeps PostgreSQL from merging that step into
    /// the join): a plan made while the table looked empty otherwise went from the fresh instances to all their sessions
    /// by instance, and read every session of the instance for each callee once there were thousands.
    /// </remarks>
    public static string FreshSessions(string callee) => $"""
        SELECT live_sessions.* FROM (
            SELECT * FROM live_sessions
            WHERE live_sessions.account_sid = {callee}.account_sid AND live_sessions."identity" = {callee}."identity"
            OFFSET 0) AS live_sessions
        JOIN instances i ON i.id = live_sessions.instance_id
        WHERE
        """ + " " + PresenceSql.FreshHeartbeat;
}
