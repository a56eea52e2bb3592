using System.Text;
using CallNotify.Api.IntegrationTests.Support;
using CallNotify.Application.Common.Ports;
using CallNotify.Domain.Common;
using CallNotify.Domain.Notifications;
using Microsoft.Extensions.DependencyInjection;

namespace CallNotify.Api.IntegrationTests.Store;

/// <summary>
/// The notification store of two instances on one database: what an instance remembers of its own writes is only a
/// starting point, so a change made meanwhile by the other instance is never overwritten.
/// </summary>
public sealed class NotificationStoreTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;

    private TestStore _store = null!;

    [OneTimeSetUp]
    public async Task CreateStoreAsync() => _store = await TestStore.CreateAsync(StoreKind.Postgres);

    [OneTimeTearDown]
    public async Task DropStoreAsync() => await _store.DisposeAsync();

    [Test]
    public async Task AChangeFromStaleMemoryToTheSameDeliveryIsAppliedToTheStoredStateInstead()
    {
        await using var a = new CallNotifyApp(_store);
        await using var b = new CallNotifyApp(_store);
        var storeA = a.Services.GetRequiredService<INotificationStore>();
        var storeB = b.Services.GetRequiredService<INotificationStore>();
        var notification = Receive();
        var first = notification.Deliveries[0].Id;
        Assert.That(await storeA.TryAddAsync(notification, CancellationToken.None), Is.True);

        // B records the delivery accepted; A still remembers it pending and records a failure of it: A's event would be
        // the delivery's first too, so A's write loses, and A's change, applied to what is stored, changes nothing.
        await storeB.UpdateAsync(notification.Id, n => n.RecordResult(first, DeliveryResult.Accepted(), Now.AddSeconds(1)), CancellationToken.None);
        var applied = true;
        var updated = await storeA.UpdateAsync(
            notification.Id, n => applied = n.RecordResult(first, DeliveryResult.Failed("late"), Now.AddSeconds(2)), CancellationToken.None);
        var stored = await storeB.FindAsync(notification.AccountSid, notification.TwiMessageId, CancellationToken.None);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(applied, Is.False, "a final delivery does not change again");
            Assert.That(updated!.GetDelivery(first).Status, Is.EqualTo(DeliveryStatus.Accepted), "A's answer is the stored state");
            Assert.That(stored!.GetDelivery(first).Events.Select(e => e.Kind), Is.EqualTo(new[] { DeliveryEventKind.Accepted }));
        }
    }

    [Test]
    public async Task AChangeFromStaleMemoryToAnotherDeliveryKeepsBothChanges()
    {
        await using var a = new CallNotifyApp(_store);
        await using var b = new CallNotifyApp(_store);
        var storeA = a.Services.GetRequiredService<INotificationStore>();
        var storeB = b.Services.GetRequiredService<INotificationStore>();
        var notification = Receive();
        var first = notification.Deliveries[0].Id;
        var second = notification.Deliveries[1].Id;

        Assert.That(await storeA.TryAddAsync(notification, CancellationToken.None), Is.True);

        // B records the first delivery; A still remembers both pending.
        await storeB.UpdateAsync(notification.Id, n => n.RecordResult(first, DeliveryResult.Accepted(), Now.AddSeconds(1)), CancellationToken.None);
        var updated = await storeA.UpdateAsync(
            notification.Id, n => n.RecordResult(second, DeliveryResult.Failed("Unavailable"), Now.AddSeconds(2)), CancellationToken.None);
        var stored = await storeB.FindAsync(notification.AccountSid, notification.TwiMessageId, CancellationToken.None);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(updated!.GetDelivery(second).Status, Is.EqualTo(DeliveryStatus.Failed), "A's answer has A's change");
            Assert.That(stored!.GetDelivery(first).Status, Is.EqualTo(DeliveryStatus.Accepted), "B's change survives");
            Assert.That(stored.GetDelivery(second).Status, Is.EqualTo(DeliveryStatus.Failed), "A's change is applied");
            Assert.That(stored.Outcome, Is.EqualTo(NotificationOutcome.Delivered));
        }
    }

    [Test]
    public async Task ARecordIsReadBackExactlyAsWritten()
    {
        await using var a = new CallNotifyApp(_store);
        var store = a.Services.GetRequiredService<INotificationStore>();
        var notification = Receive();

        Assert.That(await store.TryAddAsync(notification, CancellationToken.None), Is.True);
        Assert.That(await store.TryAddAsync(Receive(notification.TwiMessageId), CancellationToken.None), Is.False, "same (account, twi_message_id)");
        var stored = await store.FindAsync(notification.AccountSid, notification.TwiMessageId, CancellationToken.None);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(stored!.Id, Is.EqualTo(notification.Id));
            Assert.That(stored.RawBody, Is.EqualTo(notification.RawBody));
            Assert.That((stored.CallSid, stored.From, stored.To, stored.Identity, stored.MessageType),
                Is.EqualTo((notification.CallSid, notification.From, notification.To, notification.Identity, notification.MessageType)));
            Assert.That(stored.ReceivedAt, Is.EqualTo(notification.ReceivedAt).Within(TimeSpan.FromMilliseconds(1)));
            Assert.That(stored.ExpiresAt, Is.EqualTo(notification.ExpiresAt).Within(TimeSpan.FromMilliseconds(1)));
            Assert.That(stored.Deliveries.Select(d => (d.Id, d.BindingId, d.SessionId, d.Channel, d.Status)),
                Is.EquivalentTo(notification.Deliveries.Select(d => (d.Id, d.BindingId, d.SessionId, d.Channel, d.Status))));
        }
    }

    [Test]
    public async Task ConcurrentWritesOfManyNotificationsSharingStatementsEachLandOnTheirOwnRows()
    {
        await using var a = new CallNotifyApp(_store);
        var store = a.Services.GetRequiredService<INotificationStore>();
        var notifications = Enumerable.Range(0, 80).Select(_ => Receive()).ToList();

        // Inserted together, then each one's own result recorded together: one accepted, the other failed with its
        // own index in the error, so a result written to a neighbour's row would show.
        Assert.That(await Task.WhenAll(notifications.Select(n => Task.Run(() => store.TryAddAsync(n, CancellationToken.None)))), Is.All.True);
        var updated = await Task.WhenAll(notifications.Select((n, i) => Task.Run(() => store.UpdateAsync(
            n.Id,
            x => x.RecordResult(x.Deliveries[0].Id, DeliveryResult.Accepted(), Now.AddSeconds(i))
                 & x.RecordResult(x.Deliveries[1].Id, DeliveryResult.Failed("error " + i), Now.AddSeconds(i)),
            CancellationToken.None))));

        await using var b = new CallNotifyApp(_store);
        var fresh = b.Services.GetRequiredService<INotificationStore>();
        for (var i = 0; i < notifications.Count; i++)
        {
            var stored = await fresh.FindAsync(AccountSid.Parse(CallNotifyApp.AccountSid), notifications[i].TwiMessageId, CancellationToken.None);
            using (Assert.EnterMultipleScope())
            {
                Assert.That(stored!.Id, Is.EqualTo(notifications[i].Id));
                Assert.That(stored.Deliveries.Select(d => d.Events.Count), Is.EqualTo(updated[i]!.Deliveries.Select(d => d.Events.Count)).And.All.EqualTo(1));
                Assert.That(stored.Outcome, Is.EqualTo(NotificationOutcome.Delivered));
                Assert.That(stored.Deliveries[0].NotificationId, Is.EqualTo(stored.Id));
                Assert.That(stored.GetDelivery(notifications[i].Deliveries[0].Id).AcceptedAt, Is.EqualTo(Now.AddSeconds(i)).Within(TimeSpan.FromMilliseconds(1)));
                Assert.That(stored.GetDelivery(notifications[i].Deliveries[1].Id).LastError, Is.EqualTo("error " + i));
            }
        }
    }

    private static CallNotification Receive(string? messageId = null) => CallNotification.Receive(
        AccountSid.Parse(CallNotifyApp.AccountSid),
        messageId ?? TwilioRequests.NewMessageId(),
        "CA" + Guid.NewGuid().ToString("N"),
        "+15550100",
        "client:store-test",
        ClientIdentity.Parse("store-test"),
        "twilio.voice.call",
        Encoding.UTF8.GetBytes("""{"exact":"bytes"}"""),
        Now,
        TimeSpan.FromSeconds(30),
        [DeliveryTarget.ForSession("WS" + Guid.NewGuid().ToString("N")[..30]), DeliveryTarget.ForBinding("BD" + Guid.NewGuid().ToString("N")[..30], ChannelKind.Fcm)]);
}
