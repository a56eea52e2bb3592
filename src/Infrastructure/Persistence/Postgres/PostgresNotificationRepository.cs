using CallNotify.Application.Common.Ports;
using CallNotify.Domain.Common;
using CallNotify.Domain.Notifications;
using CallNotify.Infrastructure.Persistence.Configurations;
using CallNotify.Infrastructure.Persistence.Repositories;
using Npgsql;

namespace CallNotify.Infrastructure.Persistence.Postgres;

/// <summary>
/// The notification store on PostgreSQL. The webhook's path (record, look up, record each result) is plain Npgsql with
/// its writes group-committed (<see cref="GroupCommit"/>); the admin reads and the background scans are the EF Core
/// repository's. Both keep to the same rows and the same optimistic <c>version</c> check.
/// </summary>
internal sealed class PostgresNotificationRepository(
    NpgsqlDataSource dataSource,
    GroupCommit groupCommit,
    NotificationRepository entityFramework) : INotificationRepository
{
    private readonly RecentNotifications _recent = new();
    private readonly KeyedLock _changing = new();

    private const int MaxConcurrencyRetries = 10;

    private const string SelectColumns = """
        SELECT n.id, n.account_sid, n.twi_message_id, n.call_sid, n."from", n."to", n."identity", n.message_type, n.raw_body,
               n.received_at, n.expires_at, n.outcome, n.version,
               d.id, d.binding_id, d.session_id, d.channel, d.status, d.attempts, d.last_error, d.client_gone,
               d.accepted_at, d.acknowledged_at, d.updated_at, d.next_attempt_at
        FROM call_notifications n LEFT JOIN deliveries d ON d.notification_id = n.id
        """;

    private const string SelectByIdSql = SelectColumns + " WHERE n.id = $1 ORDER BY d.id";

    private const string SelectByMessageSql = SelectColumns + " WHERE n.account_sid = $1 AND n.twi_message_id = $2 ORDER BY d.id";

    private const string SelectEventColumns = """
        SELECT e.delivery_id, e.at, e.kind, e.detail
        FROM delivery_events e JOIN deliveries d ON d.id = e.delivery_id
        """;

    private const string SelectEventsByIdSql = SelectEventColumns + " WHERE d.notification_id = $1 ORDER BY e.id";

    private const string SelectEventsByMessageSql = SelectEventColumns + """
         JOIN call_notifications n ON n.id = d.notification_id
        WHERE n.account_sid = $1 AND n.twi_message_id = $2 ORDER BY e.id
        """;

    public async Task<bool> TryAddAsync(CallNotification notification, CancellationToken cancellationToken)
    {
        // Not inserted means (account, twi_message_id) was taken.
        if (!await groupCommit.WriteAsync(new NotificationInsert(notification), cancellationToken))
        {
            return false;
        }

        _recent.Remember(notification);
        return true;
    }

    public Task<CallNotification?> FindAsync(AccountSid accountSid, string twiMessageId, CancellationToken cancellationToken) =>
        ReadAsync(SelectEventsByMessageSql, SelectByMessageSql, [accountSid.Value, twiMessageId], cancellationToken);

    public Task<IReadOnlyList<CallNotification>> ListAsync(NotificationQuery query, CancellationToken cancellationToken) =>
        entityFramework.ListAsync(query, cancellationToken);

    public async Task<CallNotification?> UpdateAsync(string id, Func<CallNotification, bool> change, CancellationToken cancellationToken)
    {
        // This instance's changes to one notification go one at a time, each from the state the previous one wrote;
        // only another instance's change can make the version check fail.
        using var turn = await _changing.AcquireAsync(id, cancellationToken);
        for (var attempt = 1; ; attempt++)
        {
            // First from what this instance last wrote (checked by the version below), then from the store.
            var remembered = attempt == 1 ? _recent.Recall(id) : null;
            var notification = remembered ?? await GetAsync(id, cancellationToken);
            if (notification is null)
            {
                return null;
            }

            var expectedVersion = notification.Version;
            var before = notification.Deliveries.Select(DeliveryRow.Of).ToArray();
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

            // Only the deliveries the change touched are written: one result or ack costs one delivery row, however many
            // clients the notification has.
            DeliveryRow[] changed = [.. notification.Deliveries.Select(DeliveryRow.Of).Where((row, i) => row != before[i])];
            EventRow[] appended = [.. notification.Deliveries.SelectMany((d, i) => d.Events.Skip(eventsBefore[i]).Select(e => EventRow.Of(d, e)))];
            if (await groupCommit.WriteAsync(new NotificationUpdate(notification, expectedVersion, changed, appended), cancellationToken))
            {
                _recent.Remember(notification);
                return notification;
            }

            _recent.Forget(id);

            // Another writer saved first: apply the change to the fresh state.
            if (attempt >= MaxConcurrencyRetries)
            {
                throw new InvalidOperationException(
                    $"Notification {id} kept changing under {MaxConcurrencyRetries} attempts to update it.");
            }
        }
    }

    public async Task<CallNotification?> UpdateAsync(
        AccountSid accountSid, string twiMessageId, Func<CallNotification, bool> change, CancellationToken cancellationToken)
    {
        // (account, twi_message_id) → id never changes: a remembered id needs no read.
        var id = _recent.IdOf(accountSid.Value, twiMessageId)
            ?? (await FindAsync(accountSid, twiMessageId, cancellationToken))?.Id;
        return id is null ? null : await UpdateAsync(id, change, cancellationToken);
    }

    public Task<IReadOnlyList<StalledDelivery>> FindStalledAsync(DateTimeOffset dueBy, int limit, CancellationToken cancellationToken) =>
        entityFramework.FindStalledAsync(dueBy, limit, cancellationToken);

    public Task<int> PurgeReceivedBeforeAsync(DateTimeOffset cutoff, int limit, CancellationToken cancellationToken) =>
        entityFramework.PurgeReceivedBeforeAsync(cutoff, limit, cancellationToken);

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
            var deliveryId = reader.GetString(0);
            if (!events.TryGetValue(deliveryId, out var list))
            {
                events[deliveryId] = list = [];
            }

            list.Add(new DeliveryEvent(
                reader.GetFieldValue<DateTimeOffset>(1),
                Converters.ParseDeliveryEventKind(reader.GetString(2)),
                reader.IsDBNull(3) ? null : reader.GetString(3)));
        }

        await reader.NextResultAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }

        var deliveries = new List<Delivery>(2);
        var id = reader.GetString(0);
        var accountSid = reader.GetString(1);
        var twiMessageId = reader.GetString(2);
        var callSid = reader.GetString(3);
        var from = reader.IsDBNull(4) ? null : reader.GetString(4);
        var to = reader.GetString(5);
        var identity = reader.GetString(6);
        var messageType = reader.GetString(7);
        var rawBody = reader.GetFieldValue<byte[]>(8);
        var receivedAt = reader.GetFieldValue<DateTimeOffset>(9);
        var expiresAt = reader.GetFieldValue<DateTimeOffset>(10);
        var outcome = Converters.ParseOutcome(reader.GetString(11));
        var version = reader.GetInt32(12);
        do
        {
            if (!reader.IsDBNull(13))
            {
                deliveries.Add(Delivery.Restore(
                    reader.GetString(13),
                    id,
                    reader.IsDBNull(14) ? null : reader.GetString(14),
                    reader.IsDBNull(15) ? null : reader.GetString(15),
                    Converters.ParseChannel(reader.GetString(16)),
                    Converters.ParseDeliveryStatus(reader.GetString(17)),
                    reader.GetInt32(18),
                    reader.IsDBNull(19) ? null : reader.GetString(19),
                    reader.GetBoolean(20),
                    NullableTime(reader, 21),
                    NullableTime(reader, 22),
                    reader.GetFieldValue<DateTimeOffset>(23),
                    NullableTime(reader, 24),
                    events.TryGetValue(reader.GetString(13), out var history) ? history : []));
            }
        }
        while (await reader.ReadAsync(cancellationToken));

        return CallNotification.Restore(
            id, accountSid, twiMessageId, callSid, from, to, identity, messageType, rawBody, receivedAt, expiresAt, outcome, version, deliveries);
    }

    private static DateTimeOffset? NullableTime(NpgsqlDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : reader.GetFieldValue<DateTimeOffset>(ordinal);
}
