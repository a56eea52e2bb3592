using System.Text;
using CallNotify.Api.IntegrationTests.Support;
using CallNotify.Domain.Common;
using CallNotify.Domain.Notifications;
using CallNotify.Infrastructure.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace CallNotify.Api.IntegrationTests.Store;

/// <summary>
/// A store recorded before delivery histories existed is migrated forward, on both stores: each delivery gets the
/// events its state told (migration <c>DeliveryEvents</c>), and once the state columns are gone (<c>AppendOnlyDeliveries</c>)
/// the state folded from that history is the one the columns held: status, last error, when the next attempt is due.
/// </summary>
[TestFixture(StoreKind.Postgres)]
[TestFixture(StoreKind.Sqlite)]
public sealed class DeliveryHistoryMigrationTests(StoreKind kind)
{
    private const string LastMigrationWithoutHistory = "HotUpdates";
    private static readonly DateTimeOffset At = new(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);

    [Test]
    public async Task DeliveriesRecordedBeforeTheMigrationsKeepTheStateTheirColumnsHeld()
    {
        await using var store = await TestStore.CreateAsync(kind);
        await using (var before = CreateContext(store))
        {
            await before.GetService<IMigrator>().MigrateAsync(LastMigrationWithoutHistory);

            // The rows as that schema held them (the model of today no longer maps its columns).
            await before.Database.ExecuteSqlRawAsync(
                """
                INSERT INTO call_notifications (id, account_sid, twi_message_id, call_sid, "from", "to", "identity", message_type,
                                                raw_body, received_at, expires_at, outcome, version)
                VALUES ('NT1', 'AC0123456789abcdef0123456789abcdef', 'WB1', 'CA1', 'client:alice', 'client:bob', 'bob',
                        'twilio.voice.call', {0}, {1}, {2}, 'delivered', 7)
                """,
                Encoding.UTF8.GetBytes("{}"), Time(At)!, Time(At.AddSeconds(30))!);
            await OldAsync(before, "DL1", "pending", attempts: 2, lastError: "fcm-503");
            await OldAsync(before, "DL2", "accepted", attempts: 1, acceptedAt: At.AddSeconds(1), acknowledgedAt: At.AddSeconds(2));
            await OldAsync(before, "DL3", "failed", attempts: 1, lastError: "unregistered", clientGone: true);
            await OldAsync(before, "DL4", "failed", attempts: 1, lastError: "payload-too-large");
            await OldAsync(before, "DL5", "expired", attempts: 3, lastError: "fcm-503");
            await OldAsync(before, "DL6", "pending", attempts: 0, lastError: null);
        }

        await using var after = CreateContext(store);
        await after.Database.MigrateAsync();
        var deliveries = (await after.Deliveries.AsNoTracking().ToListAsync()).ToDictionary(d => d.Id);
        string History(string id) => string.Join(", ", deliveries[id].Events.Select(e => $"{e.Sequence}.{e.Kind.ToWire()}@{(e.At - At).TotalSeconds}:{e.Detail}"));
        string State(string id)
        {
            var d = deliveries[id];
            return $"{d.Status.ToWire()} error={d.LastError} gone={d.ClientGone} next={(d.NextAttemptAt - At)?.TotalSeconds} created={(d.CreatedAt - At).TotalSeconds}";
        }

        using (Assert.EnterMultipleScope())
        {
            Assert.That(History("DL1"), Is.EqualTo("1.retry@5:fcm-503"));
            Assert.That(History("DL2"), Is.EqualTo("1.accepted@1:, 2.acknowledged@2:"));
            Assert.That(History("DL3"), Is.EqualTo("1.client-gone@5:unregistered"));
            Assert.That(History("DL4"), Is.EqualTo("1.failed@5:payload-too-large"));
            Assert.That(History("DL5"), Is.EqualTo("1.expired@5:invite-expired"));
            Assert.That(History("DL6"), Is.Empty);

            Assert.That(State("DL1"), Is.EqualTo("pending error=fcm-503 gone=False next=6 created=0"), "still due when it was");
            Assert.That(State("DL2"), Is.EqualTo("accepted error= gone=False next= created=0"));
            Assert.That(deliveries["DL2"].AcknowledgedAt, Is.EqualTo(At.AddSeconds(2)));
            Assert.That(State("DL3"), Is.EqualTo("failed error=unregistered gone=True next= created=0"));
            Assert.That(State("DL4"), Is.EqualTo("failed error=payload-too-large gone=False next= created=0"));
            Assert.That(State("DL5"), Is.EqualTo("expired error=invite-expired gone=False next= created=0"));
            Assert.That(State("DL6"), Is.EqualTo("pending error= gone=False next=0 created=0"), "never attempted: due when it arrived");
        }

        var notification = await after.Notifications.AsNoTracking().Include(n => n.Deliveries).SingleAsync();
        Assert.That(notification.Outcome, Is.EqualTo(NotificationOutcome.Delivered));
    }

    private async Task OldAsync(
        CallNotifyDbContext db, string id, string status, int attempts, string? lastError = null, bool clientGone = false,
        DateTimeOffset? acceptedAt = null, DateTimeOffset? acknowledgedAt = null)
    {
        // Before: updated 5 s after arrival, a pending one due again 1 s later. (A null goes in as NULL: EF Core has no
        // store type for a DBNull parameter.)
        object?[] values =
        [
            id, "BD" + id, status, attempts, lastError, clientGone, Time(acceptedAt), Time(acknowledgedAt), Time(At.AddSeconds(5)),
            Time(status == "pending" ? At.AddSeconds(6) : null),
        ];
        var placeholders = values.Select((v, i) => v is null ? "NULL" : "{" + i + "}");
        var sql = $"""
            INSERT INTO deliveries (id, notification_id, binding_id, session_id, channel, status, attempts, last_error, client_gone,
                                    accepted_at, acknowledged_at, updated_at, next_attempt_at)
            VALUES ({placeholders.First()}, 'NT1', {placeholders.ElementAt(1)}, NULL, 'fcm', {string.Join(", ", placeholders.Skip(2))})
            """;
        await db.Database.ExecuteSqlRawAsync(sql, [.. values.Select(v => v ?? 0)]);
    }

    /// <summary>An instant as the store keeps it: timestamptz on PostgreSQL, the model's sortable integer on SQLite.</summary>
    private object? Time(DateTimeOffset? at) =>
        at is not { } value ? null
        : kind == StoreKind.Postgres ? value
        : new DateTimeOffsetToBinaryConverter().ConvertToProvider(value)!;

    private CallNotifyDbContext CreateContext(TestStore store) => kind == StoreKind.Postgres
        ? new PostgresCallNotifyDbContext((DbContextOptions<PostgresCallNotifyDbContext>)new DbContextOptionsBuilder<PostgresCallNotifyDbContext>().UseCallNotifyPostgres(store.ConnectionString).Options)
        : new SqliteCallNotifyDbContext((DbContextOptions<SqliteCallNotifyDbContext>)new DbContextOptionsBuilder<SqliteCallNotifyDbContext>().UseCallNotifySqlite(store.ConnectionString).Options);
}
