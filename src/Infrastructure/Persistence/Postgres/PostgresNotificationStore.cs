using CallNotify.Application.Common.Exceptions;
using CallNotify.Application.Common.Ports;
using CallNotify.Domain.Common;
using CallNotify.Domain.Notifications;
using CallNotify.Infrastructure.Persistence.Repositories;
using Npgsql;

namespace CallNotify.Infrastructure.Persistence.Postgres;

/// <summary>
/// The webhook's and the delivery pipeline's store on PostgreSQL, plain Npgsql: the callee lookup is batched
/// (<see cref="PostgresCalleeLookup"/>), the writes group-committed (<see cref="GroupCommit"/>). Nothing here rewrites a
/// notification or a delivery: a change appends its events, and the key (delivery, sequence) lets only one of two
/// concurrent writers append a delivery's next event (ADR 0021). The admin API and the sweeper read through EF Core
/// (<see cref="NotificationRepository"/>), on both stores.
/// </summary>
internal sealed class PostgresNotificationStore(
    NpgsqlDataSource dataSource,
    GroupCommit groupCommit,
    PostgresCalleeLookup callees,
    StoreMetrics? metrics = null) : INotificationStore
{
    private readonly RecentNotifications _recent = new();
    private readonly KeyedLock _changing = new();

    private const int MaxConflictRetries = 10;

    private static readonly string SelectColumns =
        $"SELECT {StoreColumns.Qualified(StoreColumns.Notification, "n")}, {StoreColumns.Qualified(StoreColumns.Delivery, "d")} " +
        "FROM call_notifications n LEFT JOIN deliveries d ON d.notification_id = n.id";

    internal static readonly string SelectByIdSql = SelectColumns + " WHERE n.id = $1 ORDER BY d.id";

    internal static readonly string SelectByMessageSql = SelectColumns + " WHERE n.account_sid = $1 AND n.twi_message_id = $2 ORDER BY d.id";

    private static readonly string SelectEventColumns =
        $"SELECT {StoreColumns.Qualified(StoreColumns.Event, "e")} FROM delivery_events e JOIN deliveries d ON d.id = e.delivery_id";

    internal static readonly string SelectEventsByIdSql = SelectEventColumns + " WHERE d.notification_id = $1 ORDER BY e.delivery_id, e.sequence";

    internal static readonly string SelectEventsByMessageSql = SelectEventColumns + """
         JOIN call_notifications n ON n.id = d.notification_id
        WHERE n.account_sid = $1 AND n.twi_message_id = $2 ORDER BY e.delivery_id, e.sequence
        """;

    /// <summary>
    /// Pending deliveries that fell due in ($1, $2]: never attempted (due when created, found by the notifications'
    /// arrival), or whose last event is a retry or a takeover due then (found by the partial index on due_at). Each
    /// part reads only the deliveries that fell due in the window.
    /// </summary>
    internal const string FindStalledSql = """
        SELECT notification_id, id, due FROM (
            SELECT d.notification_id, d.id, d.created_at AS due
            FROM call_notifications n JOIN deliveries d ON d.notification_id = n.id
            WHERE n.received_at > $1 AND n.received_at <= $2 AND d.created_at > $1 AND d.created_at <= $2
              AND NOT EXISTS (SELECT 1 FROM delivery_events e WHERE e.delivery_id = d.id)
            UNION ALL
            SELECT d.notification_id, d.id, e.due_at
            FROM delivery_events e JOIN deliveries d ON d.id = e.delivery_id
            WHERE e.due_at > $1 AND e.due_at <= $2 AND e.kind IN ('retry', 'taken-over')
              AND NOT EXISTS (SELECT 1 FROM delivery_events later WHERE later.delivery_id = e.delivery_id AND later.sequence > e.sequence)
        ) AS due_deliveries
        ORDER BY due, id
        LIMIT $3
        """;

    public Task<CalleeClients> FindCalleesAsync(AccountSid accountSid, ClientIdentity identity, DateTimeOffset now, CancellationToken cancellationToken) =>
        callees.FindAsync(accountSid, identity, now, cancellationToken);

    /// <summary>The lookup and the record in one group-committed statement (<see cref="NotificationRecord"/>).</summary>
    public async Task<CallRecording> RecordAsync(IncomingCall incoming, CancellationToken cancellationToken)
    {
        var record = new NotificationRecord(incoming);
        try
        {
            if (!await groupCommit.WriteAsync(record, cancellationToken))
            {
                return record.Known ? CallRecording.AlreadyKnown : CallRecording.NoClients;
            }
        }
        catch (PostgresException ex) when (StoreErrors.IsMessageConflict(ex))
        {
            // Another transaction recorded the message between this one's check and its insert.
            return CallRecording.AlreadyKnown;
        }

        var notification = incoming.Ring(record.Targets);
        _recent.Remember(notification);
        return CallRecording.Recorded(notification, record.Bindings);
    }

    public async Task<bool> TryAddAsync(CallNotification notification, CancellationToken cancellationToken)
    {
        // Not inserted means (account, twi_message_id) was taken.
        if (!await groupCommit.WriteAsync(new NotificationInsert(notification), cancellationToken))
        {
            return false;
        }

        // A notification the webhook records has no history yet; one given with a history gets it appended.
        EventRow[] history = [.. notification.Deliveries.SelectMany(d => d.Events.Select(e => EventRow.Of(d, e)))];
        if (history.Length > 0)
        {
            await groupCommit.WriteAsync(new DeliveryEventsAppend(history), cancellationToken);
        }

        _recent.Remember(notification);
        return true;
    }

    /// <summary>Remembers an outcome unless the message is recorded or remembered already; 1 row when it was not.</summary>
    internal const string RememberSql = """
        INSERT INTO message_ids (account_sid, twi_message_id, outcome, recorded_at)
        SELECT $1::text, $2::text, $3::text, $4::timestamptz
        WHERE NOT EXISTS (SELECT 1 FROM call_notifications WHERE account_sid = $1 AND twi_message_id = $2)
        ON CONFLICT (account_sid, twi_message_id) DO NOTHING
        """;

    internal const string FindRememberedSql = "SELECT outcome FROM message_ids WHERE account_sid = $1 AND twi_message_id = $2";

    public async Task<bool> TryRememberAsync(
        AccountSid accountSid, string twiMessageId, NotificationOutcome outcome, DateTimeOffset at, CancellationToken cancellationToken)
    {
        // Not on the ringing path (nobody to ring): one statement of its own, not group-committed.
        await using var command = dataSource.CreateCommand(RememberSql);
        command.Parameters.Add(PgParameters.Text(accountSid.Value));
        command.Parameters.Add(PgParameters.Text(twiMessageId));
        command.Parameters.Add(PgParameters.Text(outcome.ToWire()));
        command.Parameters.Add(PgParameters.Time(at));
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    public async Task<NotificationOutcome?> FindRememberedAsync(AccountSid accountSid, string twiMessageId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(FindRememberedSql);
        command.Parameters.Add(PgParameters.Text(accountSid.Value));
        command.Parameters.Add(PgParameters.Text(twiMessageId));
        return await command.ExecuteScalarAsync(cancellationToken) is string outcome ? NotificationWire.ParseOutcome(outcome) : null;
    }

    public Task<CallNotification?> FindAsync(AccountSid accountSid, string twiMessageId, CancellationToken cancellationToken) =>
        ReadAsync(SelectEventsByMessageSql, SelectByMessageSql, [accountSid.Value, twiMessageId], cancellationToken);

    public async Task<CallNotification?> UpdateAsync(string id, Func<CallNotification, bool> change, CancellationToken cancellationToken)
    {
        // This instance's changes to one notification go one at a time, each from the state the previous one wrote;
        // only another instance's append can take a sequence this one computed.
        using var turn = await _changing.AcquireAsync(id, cancellationToken);
        for (var attempt = 1; ; attempt++)
        {
            // First from what this instance last wrote (checked by the key below), then from the store.
            var remembered = attempt == 1 ? _recent.Recall(id) : null;
            if (attempt == 1)
            {
                metrics?.Recalled(remembered is not null);
            }

            var notification = remembered ?? await GetAsync(id, cancellationToken);
            if (notification is null)
            {
                return null;
            }

            var eventsBefore = notification.Deliveries.Select(d => d.Events.Count).ToArray();
            if (!change(notification))
            {
                if (remembered is not null)
                {
                    // Nothing to write: answer from the store, not from memory.
                    continue;
                }

                return notification;
            }

            // Only the events the change appended are written: one result or ack costs one row, however many clients
            // the notification has.
            EventRow[] appended = [.. notification.Deliveries.SelectMany((d, i) => d.Events.Skip(eventsBefore[i]).Select(e => EventRow.Of(d, e)))];
            try
            {
                await groupCommit.WriteAsync(new DeliveryEventsAppend(appended), cancellationToken);
                _recent.Remember(notification);
                return notification;
            }
            catch (PostgresException ex) when (StoreErrors.IsEventConflict(ex))
            {
                // Another writer appended first: apply the change to the fresh state.
                _recent.Forget(id);
                if (attempt >= MaxConflictRetries)
                {
                    throw new ConflictException($"Notification {id} kept changing under {MaxConflictRetries} attempts to update it.", ex);
                }
            }
        }
    }

    public async Task<CallNotification?> UpdateAsync(
        AccountSid accountSid, string twiMessageId, Func<CallNotification, bool> change, CancellationToken cancellationToken)
    {
        // (account, twi_message_id) → id never changes: a remembered id needs no read.
        var id = _recent.IdOf(accountSid, twiMessageId)
            ?? (await FindAsync(accountSid, twiMessageId, cancellationToken))?.Id;
        return id is null ? null : await UpdateAsync(id, change, cancellationToken);
    }

    public async Task<IReadOnlyList<StalledDelivery>> FindStalledAsync(
        DateTimeOffset dueAfter, DateTimeOffset dueBy, int limit, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(FindStalledSql);
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = dueAfter });
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = dueBy });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = limit });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var stalled = new List<StalledDelivery>();
        while (await reader.ReadAsync(cancellationToken))
        {
            stalled.Add(new StalledDelivery(reader.GetString(0), reader.GetString(1), reader.GetFieldValue<DateTimeOffset>(2)));
        }

        return stalled;
    }

    public async Task RecordBindingDeliveryAsync(string bindingId, DateTimeOffset at, CancellationToken cancellationToken) =>
        await groupCommit.WriteAsync(new BindingDeliveryStamp(bindingId, at), cancellationToken);

    private Task<CallNotification?> GetAsync(string id, CancellationToken cancellationToken) =>
        ReadAsync(SelectEventsByIdSql, SelectByIdSql, [id], cancellationToken);

    /// <summary>One round trip: the deliveries' events, then the notification with its deliveries.</summary>
    private async Task<CallNotification?> ReadAsync(string eventsSql, string notificationSql, string[] keys, CancellationToken cancellationToken)
    {
        await using var batch = dataSource.CreateBatch();
        foreach (var sql in (string[])[eventsSql, notificationSql])
        {
            var command = new NpgsqlBatchCommand(sql);
            foreach (var key in keys)
            {
                command.Parameters.Add(PgParameters.Text(key));
            }

            batch.BatchCommands.Add(command);
        }

        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        var events = new Dictionary<string, List<DeliveryEvent>>(StringComparer.Ordinal);
        while (await reader.ReadAsync(cancellationToken))
        {
            var (deliveryId, e) = StoreColumns.ReadEvent(reader);
            if (!events.TryGetValue(deliveryId, out var list))
            {
                events[deliveryId] = list = [];
            }

            list.Add(e);
        }

        await reader.NextResultAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }

        var notification = StoreColumns.ReadNotification(reader, 0);
        var deliveries = new List<Delivery>(2);
        const int deliveryAt = StoreColumns.NotificationCount;
        do
        {
            if (!reader.IsDBNull(deliveryAt))
            {
                var deliveryId = reader.GetString(deliveryAt);
                deliveries.Add(StoreColumns.ReadDelivery(reader, deliveryAt, events.TryGetValue(deliveryId, out var history) ? history : []));
            }
        }
        while (await reader.ReadAsync(cancellationToken));

        return notification.Restore(deliveries);
    }
}
