using CallNotify.Domain.Bindings;
using CallNotify.Domain.Common;
using CallNotify.Domain.Notifications;
using CallNotify.Infrastructure.Persistence.Presence;
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

    private readonly NotificationRow _row;
    private readonly DeliveryRow[] _deliveries;

    public NotificationInsert(CallNotification notification)
        : base(Statement)
    {
        _row = NotificationRow.Of(notification);
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
            NotificationRow.AddAll(p, [.. rows.Select(r => r._row)]);
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
/// The webhook's record in one statement: looks up the callee's clients (<see cref="CalleeSql"/>) and records the
/// call with delivery number <c>i</c> to client <c>i</c> (bindings by id, then sessions by id), unless
/// (account, twi_message_id) is already recorded or remembered, or the callee has no client. Applied = recorded; the
/// rows it returns give the clients (<see cref="Targets"/>, <see cref="Bindings"/>) or say the message was known
/// (<see cref="Known"/>). One round trip instead of a lookup's and then a record's (ADR 0033).
/// </summary>
internal sealed class NotificationRecord : GroupWrite
{
    internal static readonly GroupWriteKind Statement = new RecordKind();

    private readonly IncomingCall _call;
    private readonly List<DeliveryTarget> _targets = [];
    private readonly List<Binding> _bindings = [];

    public NotificationRecord(IncomingCall call)
        : base(Statement)
    {
        _call = call;
    }

    /// <summary>The clients the record's deliveries go to, in their numbers' order; read once applied.</summary>
    public IReadOnlyList<DeliveryTarget> Targets => _targets;

    /// <summary>The active bindings among them, as read in the same statement.</summary>
    public IReadOnlyList<Binding> Bindings => _bindings;

    /// <summary>Not applied because (account, twi_message_id) was already recorded or remembered; else, not applied means no client.</summary>
    public bool Known { get; private set; }

    protected internal override void Reset()
    {
        _targets.Clear();
        _bindings.Clear();
        Known = false;
    }

    private sealed class RecordKind() : GroupWriteKind("record call_notifications", Sql)
    {
        private static readonly string WebSocket = ChannelKind.WebSocket.ToWire();

        // Every step reads each call's own rows (an index scan per call, or a scan of the call's own targets): nothing
        // joins one set of the batch to another, which a plan made without the arrays' sizes may do by comparing every
        // row with every other (BatchPlanTests).
        // - checked: a call whose message is already recorded or remembered, or comes twice in this very batch (all but
        //   the first), is known: it records nothing and returns one row that says so.
        // - targets: each other call's clients, read in this statement's snapshot and numbered within the call (at most
        //   Ids.MaxNumbered, far above what a callee can hold), with the call's own columns; a callee without clients
        //   has none, records nothing and returns nothing.
        // - the notification goes in from its first target, each delivery from its target, with its id numbered from
        //   the notification's as Ids.Numbered numbers it. A message another transaction records between the check and
        //   the insert breaks the unique (account, twi_message_id): that write alone fails (GroupCommit replays the
        //   batch one write at a time) and the store answers it as known.
        internal static readonly string Sql = $"""
            WITH input AS (
                SELECT * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
                                     $9::text[], $10::bytea[], $11::timestamptz[], $12::timestamptz[])
                    WITH ORDINALITY AS i(id, account_sid, twi_message_id, call_sid, "from", "to", "identity", message_type,
                                         raw_body, received_at, expires_at, position)),
            checked AS (
                SELECT input.*,
                       row_number() OVER (PARTITION BY account_sid, twi_message_id ORDER BY position) > 1
                       OR EXISTS (SELECT 1 FROM call_notifications r WHERE r.account_sid = input.account_sid AND r.twi_message_id = input.twi_message_id)
                       OR EXISTS (SELECT 1 FROM message_ids m WHERE m.account_sid = input.account_sid AND m.twi_message_id = input.twi_message_id) AS known
                FROM input),
            targets AS (
                SELECT checked.*, c.binding_id, c.session_id, c.channel, c.ordinal
                FROM checked CROSS JOIN LATERAL (
                    SELECT found.*, (row_number() OVER (ORDER BY found.source, found.client_id COLLATE "C") - 1)::int AS ordinal
                    FROM (
                        SELECT 0 AS source, b.id AS client_id, b.id AS binding_id, NULL::text AS session_id, b.channel
                        FROM ({CalleeSql.ActiveBindings("checked", "checked.received_at")}) AS b
                        UNION ALL
                        SELECT 1, s.id, NULL, s.id, '{WebSocket}'
                        FROM ({CalleeSql.FreshSessions("checked")}) AS s) AS found) AS c
                WHERE NOT checked.known AND c.ordinal < {Ids.MaxNumbered}),
            n AS (
                INSERT INTO call_notifications ({StoreColumns.Notification})
                SELECT {StoreColumns.Notification}
                FROM targets
                WHERE ordinal = 0
                ORDER BY position),
            d AS (
                INSERT INTO deliveries ({StoreColumns.Delivery})
                SELECT '{Ids.DeliveryPrefix}' || substr(t.id, 3, 29) || lpad(to_hex(t.ordinal), 3, '0'), t.id, t.binding_id, t.session_id,
                       t.channel, t.received_at
                FROM targets t)
            SELECT t.position, true, t.ordinal, t.session_id, {StoreColumns.Qualified(StoreColumns.Binding, "b")}
            FROM targets t LEFT JOIN bindings b ON b.id = t.binding_id
            UNION ALL
            SELECT position, false, 0, NULL{string.Concat(Enumerable.Repeat(", NULL", StoreColumns.Binding.Split(", ").Length))}
            FROM checked
            WHERE known
            ORDER BY 1, 3
            """;

        public override NpgsqlBatchCommand Build(IReadOnlyList<GroupWrite> writes)
        {
            var command = new NpgsqlBatchCommand(Sql);
            command.Parameters.Add(new NpgsqlParameter<double> { TypedValue = PresenceTimings.Freshness.TotalSeconds });
            NotificationRow.AddAll(command.Parameters, [.. writes.Cast<NotificationRecord>().Select(r => NotificationRow.Of(r._call))]);
            return command;
        }

        public override bool ReadRow(NpgsqlDataReader reader, GroupWrite write)
        {
            var record = (NotificationRecord)write;
            if (!reader.GetBoolean(1))
            {
                record.Known = true;
                return false;
            }

            // The rows come in their numbers' order, and Ring numbers the targets as they are listed.
            if (reader.GetInt32(2) != record._targets.Count)
            {
                throw new InvalidOperationException($"The record of {record._call.Id} returned delivery {reader.GetInt32(2)} after {record._targets.Count}.");
            }

            if (!reader.IsDBNull(3))
            {
                record._targets.Add(DeliveryTarget.ForSession(reader.GetString(3)));
            }
            else
            {
                var binding = StoreColumns.ReadBinding(reader, 4);
                record._bindings.Add(binding);
                record._targets.Add(DeliveryTarget.ForBinding(binding.Id, binding.Channel));
            }

            return true;
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
