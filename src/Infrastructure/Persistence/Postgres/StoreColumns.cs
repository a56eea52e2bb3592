using CallNotify.Application.Common.Ports;
using CallNotify.Domain.Bindings;
using CallNotify.Domain.Common;
using CallNotify.Domain.Notifications;
using CallNotify.Infrastructure.Persistence.Configurations;
using Npgsql;
using NpgsqlTypes;

namespace CallNotify.Infrastructure.Persistence.Postgres;

/// <summary>
/// The column lists of the notification tables, and the readers of their rows, written once for every hand-written
/// statement. <c>HandWrittenSqlTests</c> prepares each statement against the schema the EF Core model's migrations
/// create, so a name here that disagrees with the model fails a test.
/// </summary>
internal static class StoreColumns
{
    /// <summary><c>call_notifications</c>, in the order <see cref="ReadNotification"/> reads them.</summary>
    public const string Notification =
        """id, account_sid, twi_message_id, call_sid, "from", "to", "identity", message_type, raw_body, received_at, expires_at""";

    public const int NotificationCount = 11;

    /// <summary><c>deliveries</c>: who each one goes to (its state is its history's, ADR 0021).</summary>
    public const string Delivery = "id, notification_id, binding_id, session_id, channel, created_at";

    /// <summary><c>delivery_events</c>, in the order <see cref="ReadEvent"/> reads them.</summary>
    public const string Event = "delivery_id, sequence, at, kind, detail, due_at";

    /// <summary><c>bindings</c>, in the order <see cref="ReadBinding"/> reads them.</summary>
    public const string Binding =
        """id, account_sid, "identity", channel, address, environment, app_id, status, inactive_reason, created_at, updated_at, expires_at, last_delivery_at""";

    /// <summary><c>live_sessions</c>, in the order <see cref="ReadSession"/> reads them.</summary>
    public const string Session = """id, instance_id, account_sid, "identity", connected_at""";

    /// <summary>A column list with every name qualified by <paramref name="alias"/>.</summary>
    public static string Qualified(string columns, string alias) =>
        string.Join(", ", columns.Split(", ").Select(c => alias + "." + c));

    /// <summary>A binding from <see cref="Binding"/>'s columns at <paramref name="at"/>.</summary>
    public static Binding ReadBinding(NpgsqlDataReader reader, int at) => Domain.Bindings.Binding.Restore(
        reader.GetString(at),
        AccountSid.Restore(reader.GetString(at + 1)),
        ClientIdentity.Restore(reader.GetString(at + 2)),
        Converters.ParseChannel(reader.GetString(at + 3)),
        PushAddress.Restore(reader.GetString(at + 4)),
        ApnsEnvironments.Parse(reader.GetString(at + 5)),
        reader.IsDBNull(at + 6) ? null : reader.GetString(at + 6),
        BindingStatuses.Parse(reader.GetString(at + 7)),
        reader.IsDBNull(at + 8) ? null : reader.GetString(at + 8),
        reader.GetFieldValue<DateTimeOffset>(at + 9),
        reader.GetFieldValue<DateTimeOffset>(at + 10),
        reader.GetFieldValue<DateTimeOffset>(at + 11),
        NullableTime(reader, at + 12));

    /// <summary>The event's delivery id, and the event, from <see cref="Event"/>'s columns at <paramref name="at"/>.</summary>
    public static (string DeliveryId, DeliveryEvent Event) ReadEvent(NpgsqlDataReader reader, int at = 0) => (
        reader.GetString(at),
        new DeliveryEvent(
            reader.GetFieldValue<DateTimeOffset>(at + 2),
            Converters.ParseDeliveryEventKind(reader.GetString(at + 3)),
            reader.IsDBNull(at + 4) ? null : reader.GetString(at + 4),
            NullableTime(reader, at + 5),
            reader.GetInt32(at + 1)));

    /// <summary>A delivery from <see cref="Delivery"/>'s columns at <paramref name="at"/>, with its history.</summary>
    public static Delivery ReadDelivery(NpgsqlDataReader reader, int at, IEnumerable<DeliveryEvent> events) => Domain.Notifications.Delivery.Restore(
        reader.GetString(at),
        reader.GetString(at + 1),
        reader.IsDBNull(at + 2) ? null : reader.GetString(at + 2),
        reader.IsDBNull(at + 3) ? null : reader.GetString(at + 3),
        Converters.ParseChannel(reader.GetString(at + 4)),
        reader.GetFieldValue<DateTimeOffset>(at + 5),
        events);

    /// <summary>A notification's own columns from <see cref="Notification"/>'s at <paramref name="at"/>.</summary>
    public static NotificationRow ReadNotification(NpgsqlDataReader reader, int at) => new(
        reader.GetString(at),
        reader.GetString(at + 1),
        reader.GetString(at + 2),
        reader.GetString(at + 3),
        reader.IsDBNull(at + 4) ? null : reader.GetString(at + 4),
        reader.GetString(at + 5),
        reader.GetString(at + 6),
        reader.GetString(at + 7),
        reader.GetFieldValue<byte[]>(at + 8),
        reader.GetFieldValue<DateTimeOffset>(at + 9),
        reader.GetFieldValue<DateTimeOffset>(at + 10));

    /// <summary>A live session from <see cref="Session"/>'s columns at <paramref name="first"/>.</summary>
    public static LiveSession ReadSession(NpgsqlDataReader reader, int first) => new(
        reader.GetString(first),
        reader.GetString(first + 1),
        reader.GetString(first + 2),
        reader.GetString(first + 3),
        reader.GetFieldValue<DateTimeOffset>(first + 4));

    private static DateTimeOffset? NullableTime(NpgsqlDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : reader.GetFieldValue<DateTimeOffset>(ordinal);
}

/// <summary>The columns of one <c>call_notifications</c> row, as read or to be written, in <see cref="StoreColumns.Notification"/>'s order.</summary>
internal sealed record NotificationRow(
    string Id,
    string AccountSid,
    string TwiMessageId,
    string CallSid,
    string? From,
    string To,
    string Identity,
    string MessageType,
    byte[] RawBody,
    DateTimeOffset ReceivedAt,
    DateTimeOffset ExpiresAt)
{
    public static NotificationRow Of(CallNotification n) =>
        new(n.Id, n.AccountSid.Value, n.TwiMessageId, n.CallSid, n.From, n.To, n.Identity.Value, n.MessageType, n.RawBody, n.ReceivedAt, n.ExpiresAt);

    public static NotificationRow Of(IncomingCall c) =>
        new(c.Id, c.AccountSid.Value, c.TwiMessageId, c.CallSid, c.From, c.To, c.Identity.Value, c.MessageType, c.RawBody, c.ReceivedAt, c.ExpiresAt);

    /// <summary>The columns of <see cref="StoreColumns.Notification"/>, one array each, in its order.</summary>
    public static void AddAll(NpgsqlParameterCollection p, NotificationRow[] rows)
    {
        p.Add(PgParameters.TextArray([.. rows.Select(r => r.Id)]));
        p.Add(PgParameters.TextArray([.. rows.Select(r => r.AccountSid)]));
        p.Add(PgParameters.TextArray([.. rows.Select(r => r.TwiMessageId)]));
        p.Add(PgParameters.TextArray([.. rows.Select(r => r.CallSid)]));
        p.Add(PgParameters.TextArray([.. rows.Select(r => r.From)]));
        p.Add(PgParameters.TextArray([.. rows.Select(r => r.To)]));
        p.Add(PgParameters.TextArray([.. rows.Select(r => r.Identity)]));
        p.Add(PgParameters.TextArray([.. rows.Select(r => r.MessageType)]));
        p.Add(new NpgsqlParameter<byte[][]> { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bytea, TypedValue = [.. rows.Select(r => r.RawBody)] });
        p.Add(PgParameters.TimeArray([.. rows.Select(r => (DateTimeOffset?)r.ReceivedAt)]));
        p.Add(PgParameters.TimeArray([.. rows.Select(r => (DateTimeOffset?)r.ExpiresAt)]));
    }

    public CallNotification Restore(IEnumerable<Delivery> deliveries) => CallNotification.Restore(
        Id,
        Domain.Common.AccountSid.Restore(AccountSid),
        TwiMessageId,
        CallSid,
        From,
        To,
        ClientIdentity.Restore(Identity),
        MessageType,
        RawBody,
        ReceivedAt,
        ExpiresAt,
        deliveries);
}
