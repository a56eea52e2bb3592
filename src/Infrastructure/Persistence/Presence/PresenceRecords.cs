namespace CallNotify.Infrastructure.Persistence.Presence;

/// <summary>
/// One running instance of the service and its last heartbeat (PostgreSQL only: SQLite is single-instance and
/// never writes these rows). Persistence records, not domain entities: they are written with plain SQL.
/// </summary>
internal sealed class InstanceRecord
{
    public required string Id { get; init; }

    public DateTimeOffset HeartbeatAt { get; init; }
}

/// <summary>A WebSocket session connected to one instance; it counts while that instance's heartbeat is fresh.</summary>
internal sealed class LiveSessionRecord
{
    public required string Id { get; init; }

    public required string InstanceId { get; init; }

    public required string AccountSid { get; init; }

    public required string Identity { get; init; }

    public DateTimeOffset ConnectedAt { get; init; }
}

/// <summary>The last sign-out everywhere of one (account, identity): tokens issued at or before it are refused.</summary>
internal sealed class SignOutRecord
{
    public required string AccountSid { get; init; }

    public required string Identity { get; init; }

    public DateTimeOffset SignedOutAt { get; set; }
}

/// <summary>
/// The outcome of one message id whose record is gone (purged) or never was (nobody to ring): a repeat is answered
/// from it and rings nobody. No body. Forgotten after <c>Retention:MessageIdDays</c>.
/// </summary>
internal sealed class MessageIdRecord
{
    public required string AccountSid { get; init; }

    public required string TwiMessageId { get; init; }

    /// <summary>The outcome's wire value (<c>delivered</c>, <c>no-active-clients</c>, <c>failed</c>).</summary>
    public required string Outcome { get; init; }

    public DateTimeOffset RecordedAt { get; init; }
}
