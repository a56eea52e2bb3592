using System.Text;
using CallNotify.Domain.Common;
using CallNotify.Domain.Notifications;

namespace CallNotify.Domain.Tests.Notifications;

/// <summary>Every change of a delivery appends one event to its history, and nothing else's history changes.</summary>
public class DeliveryEventsTests
{
    private static readonly DateTimeOffset ReceivedAt = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

    private static CallNotification Receive(params DeliveryTarget[] targets) =>
        CallNotification.Receive(
            AccountSid.Parse("AC0123456789abcdef0123456789abcdef"), "WB1", "CA1", "client:alice", "client:bob", ClientIdentity.Parse("bob"),
            "twilio.voice.call", Encoding.UTF8.GetBytes("{}"), ReceivedAt, TimeSpan.FromSeconds(30), targets);

    private static (DateTimeOffset At, DeliveryEventKind Kind, string? Detail)[] History(Delivery delivery) =>
        [.. delivery.Events.Select(e => (e.At, e.Kind, e.Detail))];

    [Test]
    public void ANewDeliveryHasNoHistory() =>
        Assert.That(Receive(DeliveryTarget.ForSession("WS1")).Deliveries.Single().Events, Is.Empty);

    [Test]
    public void RetriesThenAcceptanceThenAckAreRecordedInOrderWithTheirReasons()
    {
        var notification = Receive(DeliveryTarget.ForBinding("BD1", ChannelKind.Fcm));
        var id = notification.Deliveries.Single().Id;

        notification.RecordResult(id, DeliveryResult.Retry("fcm-503"), ReceivedAt.AddSeconds(1), ReceivedAt.AddSeconds(2));
        notification.RecordResult(id, DeliveryResult.Accepted(), ReceivedAt.AddSeconds(2));
        notification.Acknowledge("none", ReceivedAt.AddSeconds(3));

        Assert.That(History(notification.GetDelivery(id)), Is.EqualTo(new[]
        {
            (ReceivedAt.AddSeconds(1), DeliveryEventKind.Retry, (string?)"fcm-503"),
            (ReceivedAt.AddSeconds(2), DeliveryEventKind.Accepted, null),
        }));
    }

    [TestCase(DeliveryResultKind.Failed, DeliveryEventKind.Failed)]
    [TestCase(DeliveryResultKind.ClientGone, DeliveryEventKind.ClientGone)]
    public void AFinalFailureIsRecordedWithItsReasonAndNothingFollowsIt(DeliveryResultKind result, DeliveryEventKind expected)
    {
        var notification = Receive(DeliveryTarget.ForBinding("BD1", ChannelKind.Fcm));
        var id = notification.Deliveries.Single().Id;
        var failure = result == DeliveryResultKind.Failed ? DeliveryResult.Failed("payload-too-large") : DeliveryResult.ClientGone("unregistered");

        notification.RecordResult(id, failure, ReceivedAt.AddSeconds(1));
        notification.RecordResult(id, DeliveryResult.Accepted(), ReceivedAt.AddSeconds(2));
        notification.ExpireDelivery(id, ReceivedAt.AddSeconds(40));

        Assert.That(History(notification.GetDelivery(id)), Is.EqualTo(new[] { (ReceivedAt.AddSeconds(1), expected, failure.Reason) }));
    }

    [Test]
    public void ATakeoverAndAnExpiryAreRecorded()
    {
        var notification = Receive(DeliveryTarget.ForBinding("BD1", ChannelKind.Fcm));
        var id = notification.Deliveries.Single().Id;

        notification.TakeOverDelivery(id, ReceivedAt.AddSeconds(5), ReceivedAt.AddSeconds(45), ReceivedAt.AddSeconds(25));
        notification.ExpireDelivery(id, ReceivedAt.AddSeconds(31));

        Assert.That(History(notification.GetDelivery(id)), Is.EqualTo(new[]
        {
            (ReceivedAt.AddSeconds(25), DeliveryEventKind.TakenOver, (string?)null),
            (ReceivedAt.AddSeconds(31), DeliveryEventKind.Expired, DeliveryErrors.InviteExpired),
        }));
    }

    [Test]
    public void AnAckOnlyChangesItsOwnSessionsHistoryAndAnAckThatOvertookTheSendAlsoRecordsTheAcceptance()
    {
        var notification = Receive(DeliveryTarget.ForSession("WS1"), DeliveryTarget.ForSession("WS2"));
        var (first, second) = (notification.Deliveries[0], notification.Deliveries[1]);

        notification.Acknowledge("WS1", ReceivedAt.AddSeconds(1));
        notification.Acknowledge("WS1", ReceivedAt.AddSeconds(2));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(History(first), Is.EqualTo(new[]
            {
                (ReceivedAt.AddSeconds(1), DeliveryEventKind.Accepted, (string?)null),
                (ReceivedAt.AddSeconds(1), DeliveryEventKind.Acknowledged, null),
            }));
            Assert.That(second.Events, Is.Empty);
        }
    }

    [Test]
    public void WireNamesAreTheAdminApisAndReadBack()
    {
        var names = Enum.GetValues<DeliveryEventKind>().Select(k => k.ToWire()).ToArray();

        using (Assert.EnterMultipleScope())
        {
            Assert.That(names, Is.EqualTo(new[] { "accepted", "retry", "failed", "client-gone", "expired", "acknowledged", "taken-over" }));
            Assert.That(Enum.GetValues<DeliveryEventKind>().Select(k => DeliveryEventWire.TryParse(k.ToWire(), out var back) && back == k), Is.All.True);
            Assert.That(DeliveryEventWire.TryParse("delivered", out _), Is.False);
        }
    }
}
