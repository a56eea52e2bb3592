using System.Text;
using CallNotify.Domain.Common;
using CallNotify.Domain.Notifications;

namespace CallNotify.Domain.Tests.Notifications;

public class CallNotificationTests
{
    private static readonly AccountSid Account = AccountSid.Parse("AC0123456789abcdef0123456789abcdef");
    private static readonly ClientIdentity Bob = ClientIdentity.Parse("bob");
    private static readonly DateTimeOffset ReceivedAt = new(2026, 11, 28, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan InviteTtl = TimeSpan.FromSeconds(30);

    private static readonly byte[] Body = Encoding.UTF8.GetBytes(
        """{"twi_account_sid":"AC0123456789abcdef0123456789abcdef","twi_call_sid":"CA1","twi_message_id":"WB1","twi_message_type":"twilio.voice.call","twi_to":"client:bob"}""");

    private static CallNotification Receive(params DeliveryTarget[] targets) =>
        CallNotification.Receive(
            Account, "WB1", "CA1", "client:alice", "client:bob", Bob, "twilio.voice.call", Body, ReceivedAt, InviteTtl, targets);

    private static CallNotification ReceiveForOneBinding() => Receive(DeliveryTarget.ForBinding("BD1", ChannelKind.Fcm));

    [Test]
    public void ReceiveRecordsTheCallAndOnePendingDeliveryPerTarget()
    {
        var notification = Receive(
            DeliveryTarget.ForBinding("BD1", ChannelKind.Fcm),
            DeliveryTarget.ForBinding("BD2", ChannelKind.ApnsVoip),
            DeliveryTarget.ForSession("WS1"));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(Ids.IsValid(Ids.NotificationPrefix, notification.Id), Is.True);
            Assert.That(notification.AccountSid, Is.EqualTo(Account));
            Assert.That(notification.TwiMessageId, Is.EqualTo("WB1"));
            Assert.That(notification.CallSid, Is.EqualTo("CA1"));
            Assert.That(notification.From, Is.EqualTo("client:alice"));
            Assert.That(notification.To, Is.EqualTo("client:bob"));
            Assert.That(notification.Identity.Value, Is.EqualTo("bob"));
            Assert.That(notification.Outcome, Is.EqualTo(NotificationOutcome.Pending));
            Assert.That(notification.Deliveries.SelectMany(d => d.Events), Is.Empty);
            Assert.That(notification.Deliveries, Has.Count.EqualTo(3));
            Assert.That(notification.Deliveries.Select(d => d.Status), Is.All.EqualTo(DeliveryStatus.Pending));
            Assert.That(notification.Deliveries.Select(d => d.NotificationId), Is.All.EqualTo(notification.Id));
            Assert.That(notification.Deliveries.Select(d => d.Id), Is.Unique);
            Assert.That(notification.Deliveries.Select(d => d.BindingId), Is.EqualTo(new[] { "BD1", "BD2", null }));
            Assert.That(notification.Deliveries.Select(d => d.SessionId), Is.EqualTo(new[] { null, null, "WS1" }));
            Assert.That(
                notification.Deliveries.Select(d => d.Channel),
                Is.EqualTo(new[] { ChannelKind.Fcm, ChannelKind.ApnsVoip, ChannelKind.WebSocket }));
        }
    }

    [Test]
    public void ACopyHasTheSameHistoryAndStateAndNeitherSeesTheOthersChanges()
    {
        var original = Receive(DeliveryTarget.ForBinding("BD1", ChannelKind.Fcm), DeliveryTarget.ForSession("WS1"));
        var fcm = original.Deliveries[0].Id;
        var session = original.Deliveries[1].Id;
        original.RecordResult(fcm, DeliveryResult.Retry("unavailable"), ReceivedAt.AddSeconds(1), ReceivedAt.AddSeconds(2));
        _ = original.Deliveries[0].Status; // folded before the copy: the copy starts from that fold

        var copy = original.Copy();
        copy.RecordResult(fcm, DeliveryResult.Accepted(), ReceivedAt.AddSeconds(3));
        original.RecordResult(session, DeliveryResult.ClientGone("closed"), ReceivedAt.AddSeconds(4));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(copy, Is.Not.SameAs(original));
            Assert.That(
                (copy.Id, copy.AccountSid, copy.TwiMessageId, copy.CallSid, copy.From, copy.To, copy.Identity, copy.MessageType, copy.ReceivedAt, copy.ExpiresAt),
                Is.EqualTo((original.Id, original.AccountSid, original.TwiMessageId, original.CallSid, original.From, original.To, original.Identity, original.MessageType, original.ReceivedAt, original.ExpiresAt)));
            Assert.That(copy.RawBody, Is.EqualTo(Body));
            Assert.That(copy.Deliveries.Select(d => (d.Id, d.NotificationId, d.BindingId, d.SessionId, d.Channel, d.CreatedAt)),
                Is.EqualTo(original.Deliveries.Select(d => (d.Id, d.NotificationId, d.BindingId, d.SessionId, d.Channel, d.CreatedAt))));

            Assert.That(copy.Deliveries[0].Events.Select(e => e.Kind), Is.EqualTo(new[] { DeliveryEventKind.Retry, DeliveryEventKind.Accepted }));
            Assert.That(copy.Deliveries[0].Status, Is.EqualTo(DeliveryStatus.Accepted));
            Assert.That(copy.Deliveries[0].Attempts, Is.EqualTo(2));
            Assert.That(copy.Deliveries[1].Events, Is.Empty, "the original's later change is not in the copy");
            Assert.That(copy.Outcome, Is.EqualTo(NotificationOutcome.Delivered));

            Assert.That(original.Deliveries[0].Events.Select(e => e.Kind), Is.EqualTo(new[] { DeliveryEventKind.Retry }), "the copy's change is not in the original");
            Assert.That(original.Deliveries[0].Status, Is.EqualTo(DeliveryStatus.Pending));
            Assert.That(original.Deliveries[0].NextAttemptAt, Is.EqualTo(ReceivedAt.AddSeconds(2)));
            Assert.That(original.Deliveries[1].Status, Is.EqualTo(DeliveryStatus.Failed));
        }
    }

    [Test]
    public void ACallRingsWithDeliveryNumberIToTargetIAndKeepsWhatArrived()
    {
        var incoming = CallNotification.Arrive(
            Account, "WB1", "CA1", "client:" + new string('a', 248) + "\U0001F600", "client:bob", Bob, "twilio.voice.call", Body, ReceivedAt, InviteTtl);

        var notification = incoming.Ring([DeliveryTarget.ForSession("WS2"), DeliveryTarget.ForBinding("BD1", ChannelKind.Fcm)]);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(notification.Id, Is.EqualTo(incoming.Id));
            Assert.That(Ids.IsValid(Ids.NotificationPrefix, incoming.Id), Is.True);
            Assert.That(incoming.From, Has.Length.EqualTo(255), "twi_from is cut before the emoji, not inside it");
            Assert.That(notification.From, Is.EqualTo(incoming.From));
            Assert.That(notification.RawBody, Is.EqualTo(Body));
            Assert.That(incoming.RawBody, Is.Not.SameAs(Body), "the body is copied when the call arrives");
            Assert.That(notification.ExpiresAt, Is.EqualTo(ReceivedAt + InviteTtl));
            Assert.That(
                notification.Deliveries.Select(d => d.Id),
                Is.EqualTo(new[] { Ids.Numbered(Ids.DeliveryPrefix, incoming.Id, 0), Ids.Numbered(Ids.DeliveryPrefix, incoming.Id, 1) }));
            Assert.That(notification.Deliveries.Select(d => d.SessionId ?? d.BindingId), Is.EqualTo(new[] { "WS2", "BD1" }));
            Assert.That(notification.Deliveries.Select(d => d.CreatedAt), Is.All.EqualTo(ReceivedAt));
        }
    }

    [Test]
    public void ACallRingsAtMostTheMostDeliveriesANotificationHas()
    {
        var incoming = CallNotification.Arrive(Account, "WB1", "CA1", null, "client:bob", Bob, "twilio.voice.call", Body, ReceivedAt, InviteTtl);
        DeliveryTarget[] most = [.. Enumerable.Range(0, CallNotification.MaxDeliveries).Select(i => DeliveryTarget.ForSession("WS" + i))];

        using (Assert.EnterMultipleScope())
        {
            Assert.That(incoming.Ring(most).Deliveries, Has.Count.EqualTo(CallNotification.MaxDeliveries));
            Assert.That(
                () => incoming.Ring([.. most, DeliveryTarget.ForSession("WS-one-more")]),
                Throws.TypeOf<DomainException>().With.Property(nameof(DomainException.Field)).EqualTo("twi_to"));
        }
    }

    [Test]
    public void ReceiveRequiresAtLeastOneTarget()
    {
        Assert.That(
            () => Receive(),
            Throws.TypeOf<DomainException>().With.Property(nameof(DomainException.Field)).EqualTo("twi_to"));
    }

    [Test]
    public void ReceiveKeepsAnExactCopyOfTheRawBody()
    {
        var body = new byte[] { 0x7b, 0x20, 0x22, 0xc3, 0xa9, 0x22, 0x3a, 0x31, 0x7d, 0x0a };
        var notification = CallNotification.Receive(
            Account, "WB1", "CA1", null, "client:bob", Bob, "twilio.voice.call", body, ReceivedAt, InviteTtl,
            [DeliveryTarget.ForSession("WS1")]);

        body[0] = 0x00;

        Assert.That(notification.RawBody, Is.EqualTo(new byte[] { 0x7b, 0x20, 0x22, 0xc3, 0xa9, 0x22, 0x3a, 0x31, 0x7d, 0x0a }));
    }

    [Test]
    public void InviteExpiresTtlAfterReceipt()
    {
        var notification = ReceiveForOneBinding();

        using (Assert.EnterMultipleScope())
        {
            Assert.That(notification.ReceivedAt, Is.EqualTo(ReceivedAt));
            Assert.That(notification.ExpiresAt, Is.EqualTo(ReceivedAt + InviteTtl));
            Assert.That(notification.IsLiveAt(ReceivedAt + InviteTtl - TimeSpan.FromTicks(1)), Is.True);
            Assert.That(notification.IsLiveAt(ReceivedAt + InviteTtl), Is.False);
        }
    }

    [TestCase("", "CA1", "twilio.voice.call", "twi_message_id")]
    [TestCase("WB1", "", "twilio.voice.call", "twi_call_sid")]
    [TestCase("WB1", "CA1", "", "twi_message_type")]
    public void ReceiveRequiresTheTwilioIds(string messageId, string callSid, string messageType, string field)
    {
        Assert.That(
            () => CallNotification.Receive(
                Account, messageId, callSid, null, "client:bob", Bob, messageType, Body, ReceivedAt, InviteTtl,
                [DeliveryTarget.ForSession("WS1")]),
            Throws.TypeOf<DomainException>().With.Property(nameof(DomainException.Field)).EqualTo(field));
    }

    // PostgreSQL text cannot hold U+0000: a stored field with a control character would fail at the store (as a 503).
    [TestCase("WB\u00001", "CA1", "twilio.voice.call", "client:alice", "twi_message_id")]
    [TestCase("WB1", "CA\u00011", "twilio.voice.call", "client:alice", "twi_call_sid")]
    [TestCase("WB1", "CA1", "twilio.voice.call\n", "client:alice", "twi_message_type")]
    [TestCase("WB1", "CA1", "twilio.voice.call", "client:al\u0000ice", "twi_from")]
    public void ReceiveRefusesControlCharactersInStoredFields(string messageId, string callSid, string messageType, string from, string field)
    {
        Assert.That(
            () => CallNotification.Receive(
                Account, messageId, callSid, from, "client:bob", Bob, messageType, Body, ReceivedAt, InviteTtl,
                [DeliveryTarget.ForSession("WS1")]),
            Throws.TypeOf<DomainException>().With.Property(nameof(DomainException.Field)).EqualTo(field));
    }

    [Test]
    public void ReceiveRefusesAnOverLongMessageId()
    {
        Assert.That(
            () => CallNotification.Receive(
                Account, new string('W', CallNotification.MaxFieldLength + 1), "CA1", null, "client:bob", Bob, "twilio.voice.call", Body,
                ReceivedAt, InviteTtl, [DeliveryTarget.ForSession("WS1")]),
            Throws.TypeOf<DomainException>().With.Property(nameof(DomainException.Field)).EqualTo("twi_message_id"));
    }

    [Test]
    public void ReceiveTruncatesAnOverLongFrom()
    {
        var notification = CallNotification.Receive(
            Account, "WB1", "CA1", new string('f', 300), "client:bob", Bob, "twilio.voice.call", Body, ReceivedAt, InviteTtl,
            [DeliveryTarget.ForSession("WS1")]);

        Assert.That(notification.From, Has.Length.EqualTo(CallNotification.MaxFieldLength));
    }

    [Test]
    public void ReceiveRefusesANonPositiveInviteTtl()
    {
        Assert.That(
            () => CallNotification.Receive(
                Account, "WB1", "CA1", null, "client:bob", Bob, "twilio.voice.call", Body, ReceivedAt, TimeSpan.Zero,
                [DeliveryTarget.ForSession("WS1")]),
            Throws.TypeOf<ArgumentOutOfRangeException>());
    }

    [Test]
    public void AnAcceptedDeliveryMakesTheNotificationDelivered()
    {
        var notification = Receive(DeliveryTarget.ForBinding("BD1", ChannelKind.Fcm), DeliveryTarget.ForBinding("BD2", ChannelKind.Apns));
        var first = notification.Deliveries[0];
        var at = ReceivedAt.AddMilliseconds(120);

        var changed = notification.RecordResult(first.Id, DeliveryResult.Accepted(), at);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(changed, Is.True);
            Assert.That(first.Status, Is.EqualTo(DeliveryStatus.Accepted));
            Assert.That(first.Attempts, Is.EqualTo(1));
            Assert.That(first.AcceptedAt, Is.EqualTo(at));
            Assert.That(first.LastError, Is.Null);
            Assert.That(notification.Deliveries[1].Status, Is.EqualTo(DeliveryStatus.Pending));
            Assert.That(notification.Outcome, Is.EqualTo(NotificationOutcome.Delivered));
        }
    }

    [Test]
    public void EveryClientGoneMakesTheNotificationHaveNoActiveClients()
    {
        var notification = Receive(DeliveryTarget.ForBinding("BD1", ChannelKind.Fcm), DeliveryTarget.ForSession("WS1"));

        notification.RecordResult(notification.Deliveries[0].Id, DeliveryResult.ClientGone("unregistered"), ReceivedAt);
        Assert.That(notification.Outcome, Is.EqualTo(NotificationOutcome.Pending), "one delivery is still pending");
        notification.RecordResult(notification.Deliveries[1].Id, DeliveryResult.ClientGone(DeliveryErrors.SessionClosed), ReceivedAt);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(notification.Outcome, Is.EqualTo(NotificationOutcome.NoActiveClients));
            Assert.That(notification.Deliveries.Select(d => d.Status), Is.All.EqualTo(DeliveryStatus.Failed));
            Assert.That(notification.Deliveries.Select(d => d.ClientGone), Is.All.True);
            Assert.That(notification.Deliveries[0].LastError, Is.EqualTo("unregistered"));
        }
    }

    [Test]
    public void ClientGoneAndAnotherFailureMakeTheNotificationFailed()
    {
        var notification = Receive(DeliveryTarget.ForBinding("BD1", ChannelKind.Fcm), DeliveryTarget.ForBinding("BD2", ChannelKind.Apns));

        notification.RecordResult(notification.Deliveries[0].Id, DeliveryResult.ClientGone("unregistered"), ReceivedAt);
        notification.RecordResult(notification.Deliveries[1].Id, DeliveryResult.Failed(DeliveryErrors.ChannelNotConfigured), ReceivedAt);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(notification.Outcome, Is.EqualTo(NotificationOutcome.Failed));
            Assert.That(notification.Deliveries[1].ClientGone, Is.False);
            Assert.That(notification.Deliveries[1].LastError, Is.EqualTo(DeliveryErrors.ChannelNotConfigured));
        }
    }

    [Test]
    public void RetryKeepsTheDeliveryPendingAndCountsAttempts()
    {
        var notification = ReceiveForOneBinding();
        var delivery = notification.Deliveries[0];

        notification.RecordResult(delivery.Id, DeliveryResult.Retry("fcm-503"), ReceivedAt.AddSeconds(1));
        notification.RecordResult(delivery.Id, DeliveryResult.Retry("fcm-500", TimeSpan.FromSeconds(2)), ReceivedAt.AddSeconds(2));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(delivery.Status, Is.EqualTo(DeliveryStatus.Pending));
            Assert.That(delivery.IsFinal, Is.False);
            Assert.That(delivery.Attempts, Is.EqualTo(2));
            Assert.That(delivery.LastError, Is.EqualTo("fcm-500"));
            Assert.That(delivery.UpdatedAt, Is.EqualTo(ReceivedAt.AddSeconds(2)));
            Assert.That(notification.Outcome, Is.EqualTo(NotificationOutcome.Pending));
        }
    }

    [Test]
    public void RetryAfterTheInviteEndedExpiresTheDelivery()
    {
        var notification = ReceiveForOneBinding();
        var delivery = notification.Deliveries[0];

        var changed = notification.RecordResult(delivery.Id, DeliveryResult.Retry("fcm-503"), notification.ExpiresAt);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(changed, Is.True);
            Assert.That(delivery.Status, Is.EqualTo(DeliveryStatus.Expired));
            Assert.That(delivery.Attempts, Is.EqualTo(1));
            Assert.That(notification.Outcome, Is.EqualTo(NotificationOutcome.Failed));
        }
    }

    [Test]
    public void RetryWhileTheInviteLivesDoesNotExpire()
    {
        var notification = ReceiveForOneBinding();
        var delivery = notification.Deliveries[0];

        notification.RecordResult(delivery.Id, DeliveryResult.Retry("fcm-503"), notification.ExpiresAt - TimeSpan.FromTicks(1));

        Assert.That(delivery.Status, Is.EqualTo(DeliveryStatus.Pending));
    }

    [Test]
    public void ExpireDeliveryMarksItExpiredWithTheInviteExpiredReason()
    {
        var notification = ReceiveForOneBinding();
        var delivery = notification.Deliveries[0];

        var changed = notification.ExpireDelivery(delivery.Id, notification.ExpiresAt);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(changed, Is.True);
            Assert.That(delivery.Status, Is.EqualTo(DeliveryStatus.Expired));
            Assert.That(delivery.LastError, Is.EqualTo(DeliveryErrors.InviteExpired));
            Assert.That(notification.Outcome, Is.EqualTo(NotificationOutcome.Failed));
        }
    }

    [TestCase(DeliveryResultKind.Accepted)]
    [TestCase(DeliveryResultKind.ClientGone)]
    [TestCase(DeliveryResultKind.Failed)]
    public void AFinalDeliveryNeverChangesAgain(DeliveryResultKind firstKind)
    {
        var notification = ReceiveForOneBinding();
        var delivery = notification.Deliveries[0];
        var first = new DeliveryResult(firstKind, firstKind == DeliveryResultKind.Accepted ? null : "first", null);
        notification.RecordResult(delivery.Id, first, ReceivedAt.AddSeconds(1));
        var status = delivery.Status;
        var outcome = notification.Outcome;
        var version = Appended(notification);

        var changes = new[]
        {
            notification.RecordResult(delivery.Id, DeliveryResult.Accepted(), ReceivedAt.AddSeconds(2)),
            notification.RecordResult(delivery.Id, DeliveryResult.Failed("later"), ReceivedAt.AddSeconds(2)),
            notification.RecordResult(delivery.Id, DeliveryResult.ClientGone("later"), ReceivedAt.AddSeconds(2)),
            notification.RecordResult(delivery.Id, DeliveryResult.Retry("later"), ReceivedAt.AddSeconds(2)),
            notification.ExpireDelivery(delivery.Id, ReceivedAt.AddSeconds(2)),
        };

        using (Assert.EnterMultipleScope())
        {
            Assert.That(changes, Is.All.False);
            Assert.That(delivery.Status, Is.EqualTo(status));
            Assert.That(delivery.Attempts, Is.EqualTo(1));
            Assert.That(delivery.LastError, Is.EqualTo(first.Reason));
            Assert.That(delivery.UpdatedAt, Is.EqualTo(ReceivedAt.AddSeconds(1)));
            Assert.That(notification.Outcome, Is.EqualTo(outcome));
            Assert.That(Appended(notification), Is.EqualTo(version));
        }
    }

    [Test]
    public void AnExpiredDeliveryNeverChangesAgain()
    {
        var notification = ReceiveForOneBinding();
        var delivery = notification.Deliveries[0];
        notification.ExpireDelivery(delivery.Id, notification.ExpiresAt);

        var changed = notification.RecordResult(delivery.Id, DeliveryResult.Accepted(), notification.ExpiresAt);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(changed, Is.False);
            Assert.That(delivery.Status, Is.EqualTo(DeliveryStatus.Expired));
        }
    }

    [Test]
    public void EachChangeAppendsOneEventAndNoChangeAppendsNone()
    {
        var notification = Receive(DeliveryTarget.ForBinding("BD1", ChannelKind.Fcm), DeliveryTarget.ForSession("WS1"));

        notification.RecordResult(notification.Deliveries[0].Id, DeliveryResult.Retry("busy"), ReceivedAt);
        var afterRetry = Appended(notification);
        notification.RecordResult(notification.Deliveries[1].Id, DeliveryResult.Accepted(), ReceivedAt);
        var afterAccept = Appended(notification);
        notification.RecordResult(notification.Deliveries[1].Id, DeliveryResult.Accepted(), ReceivedAt);
        var afterNoChange = Appended(notification);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(afterRetry, Is.EqualTo(1));
            Assert.That(afterAccept, Is.EqualTo(2));
            Assert.That(afterNoChange, Is.EqualTo(2));
        }
    }

    [Test]
    public void LongErrorsAreTruncated()
    {
        var notification = ReceiveForOneBinding();
        var delivery = notification.Deliveries[0];

        notification.RecordResult(delivery.Id, DeliveryResult.Failed(new string('e', 2000)), ReceivedAt);

        Assert.That(delivery.LastError, Has.Length.EqualTo(Delivery.MaxErrorLength));
    }

    [Test]
    public void RecordingForAnUnknownDeliveryThrows()
    {
        var notification = ReceiveForOneBinding();

        Assert.That(
            () => notification.RecordResult("DL00000000000000000000000000000000", DeliveryResult.Accepted(), ReceivedAt),
            Throws.InvalidOperationException);
    }

    [Test]
    public void AcknowledgeMarksTheAcceptedDeliveryOfThatSession()
    {
        var notification = Receive(DeliveryTarget.ForSession("WS1"), DeliveryTarget.ForSession("WS2"));
        notification.RecordResult(notification.Deliveries[0].Id, DeliveryResult.Accepted(), ReceivedAt);
        notification.RecordResult(notification.Deliveries[1].Id, DeliveryResult.Accepted(), ReceivedAt);
        var version = Appended(notification);
        var at = ReceivedAt.AddSeconds(1);

        var acknowledged = notification.Acknowledge("WS1", at);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(acknowledged, Is.True);
            Assert.That(notification.Deliveries[0].AcknowledgedAt, Is.EqualTo(at));
            Assert.That(notification.Deliveries[1].AcknowledgedAt, Is.Null);
            Assert.That(Appended(notification), Is.EqualTo(version + 1));
        }
    }

    [Test]
    public void AcknowledgeIgnoresADeliveryThatFailed()
    {
        var notification = Receive(DeliveryTarget.ForSession("WS1"));
        notification.RecordResult(notification.Deliveries[0].Id, DeliveryResult.ClientGone(DeliveryErrors.SessionClosed), ReceivedAt);

        var failed = notification.Acknowledge("WS1", ReceivedAt);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(failed, Is.False);
            Assert.That(notification.Deliveries[0].AcknowledgedAt, Is.Null);
        }
    }

    [Test]
    public void AnAckThatOvertakesTheRecordOfTheWriteAcceptsTheDelivery()
    {
        var notification = Receive(DeliveryTarget.ForSession("WS1"));
        var delivery = notification.Deliveries[0];

        var acknowledged = notification.Acknowledge("WS1", ReceivedAt.AddMilliseconds(5));
        var lateAccept = notification.RecordResult(delivery.Id, DeliveryResult.Accepted(), ReceivedAt.AddMilliseconds(6));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(acknowledged, Is.True);
            Assert.That(lateAccept, Is.False);
            Assert.That(delivery.Status, Is.EqualTo(DeliveryStatus.Accepted));
            Assert.That(delivery.AcknowledgedAt, Is.EqualTo(ReceivedAt.AddMilliseconds(5)));
            Assert.That(delivery.Attempts, Is.EqualTo(1));
            Assert.That(notification.Outcome, Is.EqualTo(NotificationOutcome.Delivered));
        }
    }

    [Test]
    public void AnAckTimedBeforeTheRecordedAcceptanceMovesTheAcceptanceBack()
    {
        // The ack was timed when it arrived, then waited for the record of the write that sent the frame.
        var notification = Receive(DeliveryTarget.ForSession("WS1"));
        var delivery = notification.Deliveries[0];
        notification.RecordResult(delivery.Id, DeliveryResult.Accepted(), ReceivedAt.AddMilliseconds(300));

        var acknowledged = notification.Acknowledge("WS1", ReceivedAt.AddMilliseconds(20));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(acknowledged, Is.True);
            Assert.That(delivery.AcceptedAt, Is.EqualTo(ReceivedAt.AddMilliseconds(20)));
            Assert.That(delivery.AcknowledgedAt, Is.EqualTo(ReceivedAt.AddMilliseconds(20)));
        }
    }

    [Test]
    public void AnAckAfterTheAcceptanceKeepsTheAcceptanceTime()
    {
        var notification = Receive(DeliveryTarget.ForSession("WS1"));
        var delivery = notification.Deliveries[0];
        notification.RecordResult(delivery.Id, DeliveryResult.Accepted(), ReceivedAt.AddMilliseconds(5));

        notification.Acknowledge("WS1", ReceivedAt.AddMilliseconds(20));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(delivery.AcceptedAt, Is.EqualTo(ReceivedAt.AddMilliseconds(5)));
            Assert.That(delivery.AcknowledgedAt, Is.EqualTo(ReceivedAt.AddMilliseconds(20)));
        }
    }

    [Test]
    public void AcknowledgeIgnoresOtherSessionsAndPushDeliveries()
    {
        var notification = Receive(DeliveryTarget.ForBinding("BD1", ChannelKind.Fcm), DeliveryTarget.ForSession("WS1"));
        notification.RecordResult(notification.Deliveries[0].Id, DeliveryResult.Accepted(), ReceivedAt);
        notification.RecordResult(notification.Deliveries[1].Id, DeliveryResult.Accepted(), ReceivedAt);
        var version = Appended(notification);

        var acknowledged = notification.Acknowledge("WS9", ReceivedAt);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(acknowledged, Is.False);
            Assert.That(notification.Deliveries.Select(d => d.AcknowledgedAt), Is.All.Null);
            Assert.That(Appended(notification), Is.EqualTo(version));
        }
    }

    [Test]
    public void AcknowledgingTwiceKeepsTheFirstTime()
    {
        var notification = Receive(DeliveryTarget.ForSession("WS1"));
        notification.RecordResult(notification.Deliveries[0].Id, DeliveryResult.Accepted(), ReceivedAt);
        notification.Acknowledge("WS1", ReceivedAt.AddSeconds(1));
        var version = Appended(notification);

        var again = notification.Acknowledge("WS1", ReceivedAt.AddSeconds(2));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(again, Is.False);
            Assert.That(notification.Deliveries[0].AcknowledgedAt, Is.EqualTo(ReceivedAt.AddSeconds(1)));
            Assert.That(Appended(notification), Is.EqualTo(version));
        }
    }

    [Test]
    public void WireValuesAreTheOnesTheApiShows()
    {
        using (Assert.EnterMultipleScope())
        {
            Assert.That(DeliveryStatus.Pending.ToWire(), Is.EqualTo("pending"));
            Assert.That(DeliveryStatus.Accepted.ToWire(), Is.EqualTo("accepted"));
            Assert.That(DeliveryStatus.Failed.ToWire(), Is.EqualTo("failed"));
            Assert.That(DeliveryStatus.Expired.ToWire(), Is.EqualTo("expired"));
            Assert.That(NotificationOutcome.Pending.ToWire(), Is.EqualTo("pending"));
            Assert.That(NotificationOutcome.Delivered.ToWire(), Is.EqualTo("delivered"));
            Assert.That(NotificationOutcome.NoActiveClients.ToWire(), Is.EqualTo("no-active-clients"));
            Assert.That(NotificationOutcome.Failed.ToWire(), Is.EqualTo("failed"));
        }
    }

    /// <summary>Every event appended to the notification's deliveries so far.</summary>
    private static int Appended(CallNotification notification) => notification.Deliveries.Sum(d => d.Events.Count);
}
