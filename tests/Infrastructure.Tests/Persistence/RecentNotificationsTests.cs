using System.Text;
using CallNotify.Domain.Common;
using CallNotify.Domain.Notifications;
using CallNotify.Infrastructure.Persistence.Postgres;

namespace CallNotify.Infrastructure.Tests.Persistence;

public class RecentNotificationsTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 28, 12, 0, 0, TimeSpan.Zero);

    private static CallNotification Receive(string messageId) => CallNotification.Receive(
        AccountSid.Parse("AC0123456789abcdef0123456789abcdef"),
        messageId,
        "CA1",
        "client:alice",
        "client:bob",
        ClientIdentity.Parse("bob"),
        "twilio.voice.call",
        Encoding.UTF8.GetBytes("{}"),
        Now,
        TimeSpan.FromSeconds(30),
        [DeliveryTarget.ForSession("WS1"), DeliveryTarget.ForBinding("BD1", ChannelKind.Fcm)]);

    [Test]
    public void RecallGivesAnEqualCopyThatSharesNothingWithWhatWasRemembered()
    {
        var recent = new RecentNotifications();
        var notification = Receive("WB1");
        recent.Remember(notification);

        var first = recent.Recall(notification.Id)!;
        first.RecordResult(first.Deliveries[0].Id, DeliveryResult.Accepted(), Now.AddSeconds(1));
        var second = recent.Recall(notification.Id)!;

        using (Assert.EnterMultipleScope())
        {
            Assert.That(first, Is.Not.SameAs(notification));
            Assert.That(first.Deliveries[0].Events, Has.Count.EqualTo(1));
            Assert.That(second.Deliveries[0].Events, Is.Empty, "changing a recalled copy does not change the remembered state");
            Assert.That(second.Deliveries[0].Status, Is.EqualTo(DeliveryStatus.Pending));
            Assert.That(notification.Deliveries[0].Status, Is.EqualTo(DeliveryStatus.Pending));
            Assert.That(second.Deliveries.Select(d => (d.Id, d.BindingId, d.SessionId, d.Channel)),
                Is.EqualTo(notification.Deliveries.Select(d => (d.Id, d.BindingId, d.SessionId, d.Channel))));
            Assert.That(second.RawBody, Is.EqualTo(notification.RawBody));
        }
    }

    [Test]
    public void RememberingAgainReplacesAndForgetRemoves()
    {
        var recent = new RecentNotifications();
        var notification = Receive("WB1");
        recent.Remember(notification);
        notification.RecordResult(notification.Deliveries[0].Id, DeliveryResult.Accepted(), Now.AddSeconds(1));
        recent.Remember(notification);

        Assert.That(recent.Recall(notification.Id)!.Deliveries[0].Status, Is.EqualTo(DeliveryStatus.Accepted));
        recent.Forget(notification.Id);
        Assert.That(recent.Recall(notification.Id), Is.Null);
    }

    [Test]
    public void HoldsAtMostItsCapacityForgettingTheOldestFirst()
    {
        var recent = new RecentNotifications(capacity: 3);
        var notifications = Enumerable.Range(1, 5).Select(i => Receive("WB" + i)).ToList();
        notifications.ForEach(recent.Remember);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(recent.Count, Is.EqualTo(3));
            Assert.That(recent.Recall(notifications[0].Id), Is.Null);
            Assert.That(recent.Recall(notifications[1].Id), Is.Null);
            Assert.That(recent.Recall(notifications[4].Id), Is.Not.Null);
        }
    }
}
