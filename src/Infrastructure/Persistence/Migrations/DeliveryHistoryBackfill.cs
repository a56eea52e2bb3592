namespace CallNotify.Infrastructure.Persistence.Migrations;

/// <summary>
/// The history of deliveries recorded before <c>delivery_events</c> existed, rebuilt from the state each one kept: a
/// pending delivery with an error had retries (its last one is known), then acceptance, the final failure or expiry,
/// and the ack, in that order. The same SQL runs on PostgreSQL and SQLite; instants are copied as the store keeps them.
/// </summary>
internal static class DeliveryHistoryBackfill
{
    public const string Sql = """
        INSERT INTO delivery_events (delivery_id, at, kind, detail)
        SELECT delivery_id, at, kind, detail FROM (
            SELECT id AS delivery_id, updated_at AS at, 'retry' AS kind, last_error AS detail, 0 AS step
                FROM deliveries WHERE status = 'pending' AND attempts > 0 AND last_error IS NOT NULL
            UNION ALL SELECT id, accepted_at, 'accepted', NULL, 1 FROM deliveries WHERE accepted_at IS NOT NULL
            UNION ALL SELECT id, updated_at, CASE WHEN client_gone THEN 'client-gone' ELSE 'failed' END, last_error, 2
                FROM deliveries WHERE status = 'failed'
            UNION ALL SELECT id, updated_at, 'expired', 'invite-expired', 2 FROM deliveries WHERE status = 'expired'
            UNION ALL SELECT id, acknowledged_at, 'acknowledged', NULL, 3 FROM deliveries WHERE acknowledged_at IS NOT NULL
        ) AS history
        ORDER BY delivery_id, step, at;
        """;
}
