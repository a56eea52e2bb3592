namespace CallNotify.Infrastructure.Persistence.Presence;

/// <summary>
/// How quickly instances notice each other, and each other's deaths. <see cref="Freshness"/> is the rule of a fresh
/// session, which the callee lookup and presence read here (<c>PresenceSql.FreshHeartbeat</c> states it in SQL).
/// </summary>
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
