using System.Text;
using CallNotify.Api.IntegrationTests.Support;
using CallNotify.Domain.Common;
using CallNotify.Domain.Notifications;
using CallNotify.Infrastructure.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace CallNotify.Api.IntegrationTests.Store;

/// <summary>
/// A store recorded before delivery histories existed is migrated forward: each delivery gets the events its state
/// tells, oldest first, on both stores.
/// </summary>
[TestFixture(StoreKind.Postgres)]
[TestFixture(StoreKind.Sqlite)]
public sealed class DeliveryHistoryMigrationTests(StoreKind kind)
{
    private const string LastMigrationWithoutHistory = "HotUpdates";
    private static readonly DateTimeOffset At = new(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);

    [Test]
    public async Task DeliveriesRecordedBeforeTheMigrationGetTheHistoryTheirStateTells()
    {
        await using var store = await TestStore.CreateAsync(kind);
        await using (var before = CreateContext(store))
        {
            await before.GetService<IMigrator>().MigrateAsync(LastMigrationWithoutHistory);
            before.Notifications.Add(CallNotification.Restore(
                "NT1", "AC0123456789abcdef0123456789abcdef", "WB1", "CA1", "client:alice", "client:bob", "bob", "twilio.voice.call",
                Encoding.UTF8.GetBytes("{}"), At, At.AddSeconds(30), NotificationOutcome.Delivered, 7,
                [
                    Old("DL1", DeliveryStatus.Pending, attempts: 2, lastError: "fcm-503"),
                    Old("DL2", DeliveryStatus.Accepted, attempts: 1, acceptedAt: At.AddSeconds(1), acknowledgedAt: At.AddSeconds(2)),
                    Old("DL3", DeliveryStatus.Failed, attempts: 1, lastError: "unregistered", clientGone: true),
                    Old("DL4", DeliveryStatus.Failed, attempts: 1, lastError: "payload-too-large"),
                    Old("DL5", DeliveryStatus.Expired, attempts: 3, lastError: "fcm-503"),
                    Old("DL6", DeliveryStatus.Pending, attempts: 0, lastError: null),
                ]));
            await before.SaveChangesAsync();
        }

        await using var after = CreateContext(store);
        await after.Database.MigrateAsync();
        var deliveries = (await after.Deliveries.AsNoTracking().ToListAsync()).ToDictionary(d => d.Id);
        string History(string id) => string.Join(", ", deliveries[id].Events.Select(e => $"{e.Kind.ToWire()}@{(e.At - At).TotalSeconds}:{e.Detail}"));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(History("DL1"), Is.EqualTo("retry@5:fcm-503"));
            Assert.That(History("DL2"), Is.EqualTo("accepted@1:, acknowledged@2:"));
            Assert.That(History("DL3"), Is.EqualTo("client-gone@5:unregistered"));
            Assert.That(History("DL4"), Is.EqualTo("failed@5:payload-too-large"));
            Assert.That(History("DL5"), Is.EqualTo("expired@5:invite-expired"));
            Assert.That(History("DL6"), Is.Empty);
        }
    }

    private static Delivery Old(
        string id, DeliveryStatus status, int attempts, string? lastError = null, bool clientGone = false,
        DateTimeOffset? acceptedAt = null, DateTimeOffset? acknowledgedAt = null) =>
        Delivery.Restore(
            id, "NT1", "BD" + id, null, ChannelKind.Fcm, status, attempts, lastError, clientGone, acceptedAt, acknowledgedAt,
            updatedAt: At.AddSeconds(5), nextAttemptAt: status == DeliveryStatus.Pending ? At.AddSeconds(6) : null, events: []);

    private CallNotifyDbContext CreateContext(TestStore store) => kind == StoreKind.Postgres
        ? new PostgresCallNotifyDbContext((DbContextOptions<PostgresCallNotifyDbContext>)new DbContextOptionsBuilder<PostgresCallNotifyDbContext>().UseCallNotifyPostgres(store.ConnectionString).Options)
        : new SqliteCallNotifyDbContext((DbContextOptions<SqliteCallNotifyDbContext>)new DbContextOptionsBuilder<SqliteCallNotifyDbContext>().UseCallNotifySqlite(store.ConnectionString).Options);
}
