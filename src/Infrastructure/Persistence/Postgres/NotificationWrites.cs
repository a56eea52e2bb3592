using CallNotify.Domain.Common;
using CallNotify.Domain.Notifications;
using CallNotify.Infrastructure.Persistence.Configurations;
using Npgsql;
using NpgsqlTypes;

namespace CallNotify.Infrastructure.Persistence.Postgres;

/// <summary>
/// Records a new notification with its deliveries, unless (account, twi_message_id) is already recorded. Applied =
/// inserted. The values are taken when the write is made.
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
    private readonly string _outcome;
    private readonly int _version;
    private readonly DeliveryRow[] _deliveries;

    public NotificationInsert(CallNotification notification)
        : base(Statement)
    {
        _id = notification.Id;
        _accountSid = notification.AccountSid;
        _twiMessageId = notification.TwiMessageId;
        _callSid = notification.CallSid;
        _from = notification.From;
        _to = notification.To;
        _identity = notification.Identity;
        _messageType = notification.MessageType;
        _rawBody = notification.RawBody;
        _receivedAt = notification.ReceivedAt;
        _expiresAt = notification.ExpiresAt;
        _outcome = notification.Outcome.ToWire();
        _version = notification.Version;
        _deliveries = [.. notification.Deliveries.Select(DeliveryRow.Of)];
    }

    private sealed class InsertKind() : GroupWriteKind("insert call_notifications", Sql)
    {
        // The deliveries go in from the notifications the first insert returned: a message already recorded (by
        // another request, or twice in this very batch) inserts neither its row nor its deliveries.
        private const string Sql = """
            WITH input AS (
                SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                                     $8::text[], $9::bytea[], $10::timestamptz[], $11::timestamptz[], $12::text[], $13::int[])
                    WITH ORDINALITY AS i(id, account_sid, twi_message_id, call_sid, "from", "to", "identity", message_type,
                                         raw_body, received_at, expires_at, outcome, version, position)),
            n AS (
                INSERT INTO call_notifications
                    (id, account_sid, twi_message_id, call_sid, "from", "to", "identity", message_type, raw_body, received_at, expires_at, outcome, version)
                SELECT id, account_sid, twi_message_id, call_sid, "from", "to", "identity", message_type, raw_body, received_at, expires_at, outcome, version
                FROM input ORDER BY position
                ON CONFLICT (account_sid, twi_message_id) DO NOTHING
                RETURNING id),
            d AS (
                INSERT INTO deliveries
                    (id, notification_id, binding_id, session_id, channel, status, attempts, last_error, client_gone,
                     accepted_at, acknowledged_at, updated_at, next_attempt_at)
                SELECT d.id, d.notification_id, d.binding_id, d.session_id, d.channel, d.status, d.attempts, d.last_error,
                       d.client_gone, d.accepted_at, d.acknowledged_at, d.updated_at, d.next_attempt_at
                FROM unnest($14::text[], $15::text[], $16::text[], $17::text[], $18::text[], $19::text[], $20::int[], $21::text[],
                            $22::bool[], $23::timestamptz[], $24::timestamptz[], $25::timestamptz[], $26::timestamptz[])
                    AS d(notification_id, id, binding_id, session_id, channel, status, attempts, last_error, client_gone,
                         accepted_at, acknowledged_at, updated_at, next_attempt_at)
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
            p.Add(PgParameters.TextArray([.. rows.Select(r => r._outcome)]));
            p.Add(PgParameters.IntArray([.. rows.Select(r => r._version)]));
            DeliveryRow.AddAll(p, [.. rows.SelectMany(r => r._deliveries)], withIdentity: true);
            return command;
        }
    }
}

/// <summary>
/// Saves a notification's outcome and the state of the deliveries a change touched if its stored version is still the
/// one the change started from, and bumps it. Applied = saved; not applied = another writer saved first.
/// </summary>
internal sealed class NotificationUpdate : GroupWrite
{
    internal static readonly GroupWriteKind Statement = new UpdateKind();

    private readonly string _id;
    private readonly string _outcome;
    private readonly int _version;
    private readonly int _expectedVersion;
    private readonly DeliveryRow[] _deliveries;

    private readonly EventRow[] _events;

    /// <param name="changed">The deliveries whose state the change touched (the others are not written).</param>
    /// <param name="appended">The events the change added to their histories, oldest first.</param>
    public NotificationUpdate(CallNotification notification, int expectedVersion, DeliveryRow[] changed, EventRow[] appended)
        : base(Statement)
    {
        _id = notification.Id;
        _outcome = notification.Outcome.ToWire();
        _version = notification.Version;
        _expectedVersion = expectedVersion;
        _deliveries = changed;
        _events = appended;
    }

    private sealed class UpdateKind() : GroupWriteKind("update call_notifications", Sql)
    {
        // The deliveries change only where their notification's version check passed.
        private const string Sql = """
            WITH input AS (
                SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::int[])
                    WITH ORDINALITY AS i(id, outcome, version, expected_version, position)),
            n AS (
                UPDATE call_notifications AS c SET outcome = input.outcome, version = input.version
                FROM input
                WHERE c.id = input.id AND c.version = input.expected_version
                RETURNING c.id, input.position),
            d AS (
                UPDATE deliveries AS d
                SET status = u.status, attempts = u.attempts, last_error = u.last_error, client_gone = u.client_gone,
                    accepted_at = u.accepted_at, acknowledged_at = u.acknowledged_at, updated_at = u.updated_at,
                    next_attempt_at = u.next_attempt_at
                FROM n, unnest($5::text[], $6::text[], $7::text[], $8::int[], $9::text[], $10::bool[], $11::timestamptz[],
                               $12::timestamptz[], $13::timestamptz[], $14::timestamptz[])
                    AS u(notification_id, id, status, attempts, last_error, client_gone, accepted_at, acknowledged_at,
                         updated_at, next_attempt_at)
                WHERE u.notification_id = n.id AND d.id = u.id AND d.notification_id = n.id),
            e AS (
                INSERT INTO delivery_events (delivery_id, at, kind, detail)
                SELECT e.delivery_id, e.at, e.kind, e.detail
                FROM unnest($15::text[], $16::text[], $17::timestamptz[], $18::text[], $19::text[])
                    WITH ORDINALITY AS e(notification_id, delivery_id, at, kind, detail, position)
                JOIN n ON n.id = e.notification_id
                ORDER BY e.position)
            SELECT position FROM n
            """;

        public override NpgsqlBatchCommand Build(IReadOnlyList<GroupWrite> writes)
        {
            var rows = writes.Cast<NotificationUpdate>().ToArray();
            var command = new NpgsqlBatchCommand(Sql);
            var p = command.Parameters;
            p.Add(PgParameters.TextArray([.. rows.Select(r => r._id)]));
            p.Add(PgParameters.TextArray([.. rows.Select(r => r._outcome)]));
            p.Add(PgParameters.IntArray([.. rows.Select(r => r._version)]));
            p.Add(PgParameters.IntArray([.. rows.Select(r => r._expectedVersion)]));
            DeliveryRow.AddAll(p, [.. rows.SelectMany(r => r._deliveries)], withIdentity: false);
            EventRow[] events = [.. rows.SelectMany(r => r._events)];
            p.Add(PgParameters.TextArray([.. events.Select(e => e.NotificationId)]));
            p.Add(PgParameters.TextArray([.. events.Select(e => e.DeliveryId)]));
            p.Add(PgParameters.TimeArray([.. events.Select(e => (DateTimeOffset?)e.At)]));
            p.Add(PgParameters.TextArray([.. events.Select(e => e.Kind)]));
            p.Add(PgParameters.TextArray([.. events.Select(e => e.Detail)]));
            return command;
        }
    }
}

/// <summary>One appended <c>delivery_events</c> row, copied when a write is made.</summary>
internal sealed record EventRow(string NotificationId, string DeliveryId, DateTimeOffset At, string Kind, string? Detail)
{
    public static EventRow Of(Delivery delivery, DeliveryEvent e) => new(delivery.NotificationId, delivery.Id, e.At, e.Kind.ToWire(), e.Detail);
}

/// <summary>A delivery's columns, copied when a write is made.</summary>
internal sealed record DeliveryRow(
    string NotificationId,
    string Id,
    string? BindingId,
    string? SessionId,
    string Channel,
    string Status,
    int Attempts,
    string? LastError,
    bool ClientGone,
    DateTimeOffset? AcceptedAt,
    DateTimeOffset? AcknowledgedAt,
    DateTimeOffset UpdatedAt,
    DateTimeOffset? NextAttemptAt)
{
    public static DeliveryRow Of(Delivery d) => new(
        d.NotificationId, d.Id, d.BindingId, d.SessionId, d.Channel.ToWire(), d.Status.ToWire(), d.Attempts, d.LastError,
        d.ClientGone, d.AcceptedAt, d.AcknowledgedAt, d.UpdatedAt, d.NextAttemptAt);

    /// <summary>
    /// notification_id, id, [binding_id, session_id, channel when <paramref name="withIdentity"/>], then the state a
    /// delivery's life changes, one array each.
    /// </summary>
    public static void AddAll(NpgsqlParameterCollection p, DeliveryRow[] rows, bool withIdentity)
    {
        p.Add(PgParameters.TextArray([.. rows.Select(d => d.NotificationId)]));
        p.Add(PgParameters.TextArray([.. rows.Select(d => d.Id)]));
        if (withIdentity)
        {
            p.Add(PgParameters.TextArray([.. rows.Select(d => d.BindingId)]));
            p.Add(PgParameters.TextArray([.. rows.Select(d => d.SessionId)]));
            p.Add(PgParameters.TextArray([.. rows.Select(d => d.Channel)]));
        }

        p.Add(PgParameters.TextArray([.. rows.Select(d => d.Status)]));
        p.Add(PgParameters.IntArray([.. rows.Select(d => d.Attempts)]));
        p.Add(PgParameters.TextArray([.. rows.Select(d => d.LastError)]));
        p.Add(new NpgsqlParameter<bool[]> { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Boolean, TypedValue = [.. rows.Select(d => d.ClientGone)] });
        p.Add(PgParameters.TimeArray([.. rows.Select(d => d.AcceptedAt)]));
        p.Add(PgParameters.TimeArray([.. rows.Select(d => d.AcknowledgedAt)]));
        p.Add(PgParameters.TimeArray([.. rows.Select(d => (DateTimeOffset?)d.UpdatedAt)]));
        p.Add(PgParameters.TimeArray([.. rows.Select(d => d.NextAttemptAt)]));
    }
}
