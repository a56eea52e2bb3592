namespace CallNotify.Infrastructure.Persistence.Migrations;

/// <summary>
/// Data steps of the <c>AppendOnlyDeliveries</c> migration (PostgreSQL and SQLite alike): a delivery's state becomes
/// its history's, so what the dropped columns said must be in the history first (ADR 0021).
/// </summary>
internal static class AppendOnlyDeliveriesBackfill
{
    /// <summary>Each event's position in its delivery's history, in the order they were appended.</summary>
    public const string NumberEvents = """
        UPDATE delivery_events SET sequence = (
            SELECT count(*) FROM delivery_events earlier
            WHERE earlier.delivery_id = delivery_events.delivery_id AND earlier.id <= delivery_events.id);
        """;

    /// <summary>A pending delivery waiting for a retry or a lease: its last event carries when that falls due.</summary>
    public const string DueTimes = """
        UPDATE delivery_events SET due_at = (SELECT d.next_attempt_at FROM deliveries d WHERE d.id = delivery_events.delivery_id)
        WHERE kind IN ('retry', 'taken-over')
          AND EXISTS (SELECT 1 FROM deliveries d WHERE d.id = delivery_events.delivery_id AND d.status = 'pending')
          AND NOT EXISTS (SELECT 1 FROM delivery_events later
                          WHERE later.delivery_id = delivery_events.delivery_id AND later.id > delivery_events.id);
        """;

    /// <summary>A delivery is created when its notification arrives (its first attempt is due then).</summary>
    public const string CreationTimes = """
        UPDATE deliveries SET created_at = (SELECT n.received_at FROM call_notifications n WHERE n.id = deliveries.notification_id);
        """;
}
