using System.Data.Common;
using System.Text;
using CallNotify.Api.IntegrationTests.Support;
using CallNotify.Application.Common.Ports;
using CallNotify.Domain.Common;
using CallNotify.Domain.Notifications;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace CallNotify.Api.IntegrationTests.Store;

/// <summary>
/// A purged notification leaves no row behind: its deliveries and their events go with it, and a newer notification's
/// stay. On SQLite the foreign keys cascade; on PostgreSQL, whose hot-path tables carry no foreign key (ADR 0030), a
/// statement trigger on <c>call_notifications</c> does.
/// </summary>
[TestFixture("postgres")]
[TestFixture("sqlite")]
public sealed class PurgedRowsTests(string kind)
{
    private static readonly AccountSid Account = AccountSid.Parse(CallNotifyApp.AccountSid);

    private TestStore _store = null!;
    private CallNotifyApp _app = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        _store = await TestStore.CreateAsync(kind == "postgres" ? StoreKind.Postgres : StoreKind.Sqlite);
        _app = new CallNotifyApp(_store);
        _ = _app.BaseAddress;
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        await _app.DisposeAsync();
        await _store.DisposeAsync();
    }

    [Test]
    public async Task APurgedNotificationTakesItsDeliveriesAndTheirEventsAndLeavesTheNewerOnes()
    {
        var notifications = _app.Services.GetRequiredService<INotificationStore>();
        var history = _app.Services.GetRequiredService<INotificationHistory>();
        var now = DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        var old = New(now.AddHours(-2), clients: 3);
        var kept = New(now, clients: 2);
        foreach (var notification in new[] { old, kept })
        {
            Assert.That(await notifications.TryAddAsync(notification, CancellationToken.None), Is.True);
            foreach (var delivery in notification.Deliveries)
            {
                await notifications.UpdateAsync(
                    notification.Id, n => n.RecordResult(delivery.Id, DeliveryResult.Accepted(), now), CancellationToken.None);
                await notifications.UpdateAsync(
                    notification.Id, n => n.Acknowledge(delivery.SessionId!, now.AddMilliseconds(1)), CancellationToken.None);
            }
        }

        var before = await RowsAsync(old, kept);
        var purged = await history.PurgeReceivedBeforeAsync(now.AddHours(-1), 100, CancellationToken.None);
        var after = await RowsAsync(old, kept);
        TestContext.Out.WriteLine($"{kind}: before {before}, purged {purged}, after {after}");

        using (Assert.EnterMultipleScope())
        {
            Assert.That(before, Is.EqualTo(new Rows(1, 3, 6, 1, 2, 4)), "each delivery accepted and acknowledged: two events each");
            Assert.That(purged, Is.EqualTo(1));
            Assert.That(after, Is.EqualTo(new Rows(0, 0, 0, 1, 2, 4)), "the old one's rows all gone, the newer one's all kept");
        }
    }

    private static CallNotification New(DateTimeOffset receivedAt, int clients) =>
        CallNotification.Receive(
            Account, "WB" + Guid.NewGuid().ToString("N"), "CA" + Guid.NewGuid().ToString("N"), "client:alice", "client:bob",
            ClientIdentity.Parse("bob"), "twilio.voice.call", Encoding.UTF8.GetBytes("{\"twi_to\":\"client:bob\"}"), receivedAt,
            TimeSpan.FromSeconds(30),
            [.. Enumerable.Range(0, clients).Select(i => DeliveryTarget.ForSession("WS" + Guid.NewGuid().ToString("N")[..8] + i))]);

    private sealed record Rows(long Old, long OldDeliveries, long OldEvents, long Kept, long KeptDeliveries, long KeptEvents);

    private async Task<Rows> RowsAsync(CallNotification old, CallNotification kept)
    {
        await using DbConnection connection = _store.Kind == StoreKind.Postgres
            ? new NpgsqlConnection(_store.ConnectionString)
            : new SqliteConnection(_store.ConnectionString);
        await connection.OpenAsync();
        var (o, od, oe) = await CountAsync(connection, old);
        var (k, kd, ke) = await CountAsync(connection, kept);
        return new Rows(o, od, oe, k, kd, ke);
    }

    private static async Task<(long Notifications, long Deliveries, long Events)> CountAsync(DbConnection connection, CallNotification notification)
    {
        // Each table counted by the ids the test knows, not joined through the parent, so an orphan would be seen.
        var deliveryIds = string.Join(", ", notification.Deliveries.Select(d => $"'{d.Id}'"));
        await using var command = connection.CreateCommand();
        command.CommandText = $"""
            SELECT (SELECT count(*) FROM call_notifications WHERE id = '{notification.Id}'),
                   (SELECT count(*) FROM deliveries WHERE notification_id = '{notification.Id}'),
                   (SELECT count(*) FROM delivery_events WHERE delivery_id IN ({deliveryIds}))
            """;
        await using var reader = await command.ExecuteReaderAsync();
        Assert.That(await reader.ReadAsync(), Is.True);
        return (Convert.ToInt64(reader.GetValue(0)), Convert.ToInt64(reader.GetValue(1)), Convert.ToInt64(reader.GetValue(2)));
    }
}
