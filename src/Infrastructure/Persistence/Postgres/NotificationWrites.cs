using CallNotify.Domain.Common;
using CallNotify.Domain.Notifications;
using Npgsql;
using NpgsqlTypes;

namespace CallNotify.Infrastructure.Persistence.Postgres;

/// <summary>
/// Records a new notification with its deliveries (who each goes to), unless (account, twi_message_id) is already
/// recorded. Applied = inserted. The values are taken when the write is made. A new notification has no history yet
/// (<see cref="PostgresNotificationStore.TryAddAsync"/> appends one it was given separately).
/// </summary>
internal sealed class NotificationInsert : GroupWrite
{
    internal static readonly GroupWriteKind Statement = new InsertKind();

    private readonly string _id;
    private readonly string _accountSid;
    private readonly string _twiMessageId;
    private readonly string _callSid;
    private readonly string? _from;
    private readonly string _to;
    private readonly string _identity;
    private readonly string _messageType;
    private readonly byte[] _rawBody;
    private readonly DateTimeOffset _receivedAt;
    private readonly DateTimeOffset _expiresAt;
    private readonly DeliveryRow[] _deliveries;

    public NotificationInsert(CallNotification notification)
        : base(Statement)
    {
        _id = notification.Id;
        _accountSid = notification.AccountSid.Value;
        _twiMessageId = notification.TwiMessageId;
        _callSid = notification.CallSid;
        _from = notification.From;
        _to = notification.To;
        _identity = notification.Identity.Value;
        _messageType = notification.MessageType;
        _rawBody = notification.RawBody;
        _receivedAt = notification.ReceivedAt;
        _expiresAt = notification.ExpiresAt;
        _deliveries = [.. notification.Deliveries.Select(DeliveryRow.Of)];
    }

    private sealed class InsertKind() : GroupWriteKind("insert call_notifications", Sql)
    {
        // The deliveries go in from the notifications the first insert returned: a message already recorded (by another
        // request, or twice in this very batch) or remembered (answered without a record, or purged) inserts neither its
        // row nor its deliveries.
        private const string Sql = $"""
            WITH input AS (
                SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                                     $8::text[], $9::bytea[], $10::timestamptz[], $11::timestamptz[])
                    WITH ORDINALITY AS i(id, account_sid, twi_message_id, call_sid, "from", "to", "identity", message_type,
                                         raw_body, received_at, expires_at, position)),
            n AS (
                INSERT INTO call_notifications ({StoreColumns.Notification})
                SELECT {StoreColumns.Notification}
                FROM input
                WHERE NOT EXISTS (SELECT 1 FROM message_ids m WHERE m.account_sid = input.account_sid AND m.twi_message_id = input.twi_message_id)
                ORDER BY position
                ON CONFLICT (account_sid, twi_message_id) DO NOTHING
                RETURNING id),
            d AS (
                INSERT INTO deliveries ({StoreColumns.Delivery})
                SELECT d.id, d.notification_id, d.binding_id, d.session_id, d.channel, d.created_at
                FROM unnest($12::text[], $13::text[], $14::text[], $15::text[], $16::text[], $17::timestamptz[])
                    AS d(id, notification_id, binding_id, session_id, channel, created_at)
                JOIN n ON n.id = d.notification_id)
            SELECT input.position FROM input JOIN n ON n.id = input.id
            """;

        public override NpgsqlBatchCommand Build(IReadOnlyList<GroupWrite> writes)
        {
            var rows = writes.Cast<NotificationInsert>().ToArray();
            var command = new NpgsqlBatchCommand(Sql);
            var p = command.Parameters;
            p.Add(PgParameters.TextArray([.. rows.Select(r => r._id)]));
            p.Add(PgParameters.TextArray([.. rows.Select(r => r._accountSid)]));
            p.Add(PgParameters.TextArray([.. rows.Select(r => r._twiMessageId)]));
            p.Add(PgParameters.TextArray([.. rows.Select(r => r._callSid)]));
            p.Add(PgParameters.TextArray([.. rows.Select(r => r._from)]));
            p.Add(PgParameters.TextArray([.. rows.Select(r => r._to)]));
            p.Add(PgParameters.TextArray([.. rows.Select(r => r._identity)]));
            p.Add(PgParameters.TextArray([.. rows.Select(r => r._messageType)]));
            p.Add(new NpgsqlParameter<byte[][]> { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bytea, TypedValue = [.. rows.Select(r => r._rawBody)] });
            p.Add(PgParameters.TimeArray([.. rows.Select(r => (DateTimeOffset?)r._receivedAt)]));
            p.Add(PgParameters.TimeArray([.. rows.Select(r => (DateTimeOffset?)r._expiresAt)]));
            DeliveryRow[] deliveries = [.. rows.SelectMany(r => r._deliveries)];
            p.Add(PgParameters.TextArray([.. deliveries.Select(d => d.Id)]));
            p.Add(PgParameters.TextArray([.. deliveries.Select(d => d.NotificationId)]));
            p.Add(PgParameters.TextArray([.. deliveries.Select(d => d.BindingId)]));
            p.Add(PgParameters.TextArray([.. deliveries.Select(d => d.SessionId)]));
            p.Add(PgParameters.TextArray([.. deliveries.Select(d => d.Channel)]));
            p.Add(PgParameters.TimeArray([.. deliveries.Select(d => (DateTimeOffset?)d.CreatedAt)]));
            return command;
        }
    }
}

/// <summary>
/// Appends events to deliveries' histories: nothing else of the notification is written (ADR 0021). All or nothing:
/// an event whose (delivery, sequence) is taken (another writer appended that delivery's next event first) fails the
/// statement with a unique violation (<see cref="StoreErrors.IsEventConflict"/>), the group commit replays the batch
/// one write at a time, and only that write fails.
/// </summary>
internal sealed class DeliveryEventsAppend : GroupWrite
{
    internal static readonly GroupWriteKind Statement = new AppendKind();

    private readonly EventRow[] _events;

    /// <param name="appended">The events one change added, oldest first.</param>
    public DeliveryEventsAppend(EventRow[] appended)
        : base(Statement)
    {
        _events = appended;
    }

    private sealed class AppendKind() : GroupWriteKind("insert delivery_events", Sql)
    {
        // The answer does not wait for a delivery's events when it is decided by an accepted send (ADR 0019); only an
        // answer decided by failures waits, a few milliseconds longer.
        public override bool MayWait => true;

        // Every write is applied once the statement succeeds: one row per write, 1 to $7.
        private const string Sql = $"""
            WITH e AS (
                INSERT INTO delivery_events ({StoreColumns.Event})
                SELECT * FROM unnest($1::text[], $2::int[], $3::timestamptz[], $4::text[], $5::text[], $6::timestamptz[]))
            SELECT generate_series(1, $7::int)::bigint
            """;

        public override NpgsqlBatchCommand Build(IReadOnlyList<GroupWrite> writes)
        {
            var command = new NpgsqlBatchCommand(Sql);
            EventRow.AddAll(command.Parameters, [.. writes.Cast<DeliveryEventsAppend>().SelectMany(w => w._events)]);
            command.Parameters.Add(new NpgsqlParameter<int> { NpgsqlDbType = NpgsqlDbType.Integer, TypedValue = writes.Count });
            return command;
        }
    }
}

/// <summary>One <c>delivery_events</c> row, copied when a write is made.</summary>
internal sealed record EventRow(string DeliveryId, int Sequence, DateTimeOffset At, string Kind, string? Detail, DateTimeOffset? DueAt)
{
    public static EventRow Of(Delivery delivery, DeliveryEvent e) => new(delivery.Id, e.Sequence, e.At, e.Kind.ToWire(), e.Detail, e.DueAt);

    /// <summary>The columns of <see cref="StoreColumns.Event"/>, one array each.</summary>
    public static void AddAll(NpgsqlParameterCollection p, EventRow[] events)
    {
        p.Add(PgParameters.TextArray([.. events.Select(e => e.DeliveryId)]));
        p.Add(PgParameters.IntArray([.. events.Select(e => e.Sequence)]));
        p.Add(PgParameters.TimeArray([.. events.Select(e => (DateTimeOffset?)e.At)]));
        p.Add(PgParameters.TextArray([.. events.Select(e => e.Kind)]));
        p.Add(PgParameters.TextArray([.. events.Select(e => e.Detail)]));
        p.Add(PgParameters.TimeArray([.. events.Select(e => e.DueAt)]));
    }
}

/// <summary>A delivery's columns (who it goes to), copied when a write is made.</summary>
internal sealed record DeliveryRow(string NotificationId, string Id, string? BindingId, string? SessionId, string Channel, DateTimeOffset CreatedAt)
{
    public static DeliveryRow Of(Delivery d) => new(d.NotificationId, d.Id, d.BindingId, d.SessionId, d.Channel.ToWire(), d.CreatedAt);
}
