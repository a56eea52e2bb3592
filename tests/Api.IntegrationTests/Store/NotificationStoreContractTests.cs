using System.Text;
using CallNotify.Api.IntegrationTests.Support;
using CallNotify.Application.Common.Ports;
using CallNotify.Domain.Bindings;
using CallNotify.Domain.Common;
using CallNotify.Domain.Notifications;
using CallNotify.Tests.Fakes;
using Microsoft.Extensions.DependencyInjection;

namespace CallNotify.Api.IntegrationTests.Store;

/// <summary>
/// One contract for the notification store, run against both stores as the service wires them (plain Npgsql with group
/// commit on PostgreSQL, EF Core on SQLite) and against the in-memory store Application's tests stand on, so none can
/// drift: what one records, reads back, orders, refuses, finds overdue or purges, the others do too.
/// </summary>
[TestFixture("postgres")]
[TestFixture("sqlite")]
[TestFixture("memory")]
public sealed class NotificationStoreContractTests(string kind)
{
    private static readonly AccountSid Account = AccountSid.Parse(CallNotifyApp.AccountSid);

    private TestStore? _store;
    private CallNotifyApp? _app;
    private InMemoryNotificationRepository? _memory;
    private INotificationStore _notifications = null!;
    private INotificationHistory _history = null!;
    private IBindingRepository _bindings = null!;
    private DateTimeOffset _now;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        if (kind == "memory")
        {
            var bindings = new InMemoryBindingRepository();
            _memory = new InMemoryNotificationRepository(bindings);
            (_notifications, _history, _bindings) = (_memory, _memory, bindings);
            return;
        }

        _store = await TestStore.CreateAsync(kind == "postgres" ? StoreKind.Postgres : StoreKind.Sqlite);
        _app = new CallNotifyApp(_store);
        _ = _app.BaseAddress;
        _notifications = _app.Services.GetRequiredService<INotificationStore>();
        _history = _app.Services.GetRequiredService<INotificationHistory>();
        _bindings = _app.Services.GetRequiredService<IBindingRepository>();
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }

        if (_store is not null)
        {
            await _store.DisposeAsync();
        }
    }

    /// <summary>A second instance on the same store (its own memory of what it wrote, its own writer); the same one in memory.</summary>
    private async Task<(INotificationStore Store, IAsyncDisposable Lifetime)> AnotherInstanceAsync()
    {
        if (_memory is not null)
        {
            return (_memory, new Nothing());
        }

        var other = new CallNotifyApp(_store!);
        _ = other.BaseAddress;
        return (other.Services.GetRequiredService<INotificationStore>(), other);
    }

    private sealed class Nothing : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    [SetUp]
    public void SetUp() =>
        // Whole milliseconds: both stores keep at least that (PostgreSQL microseconds, SQLite ticks).
        _now = DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());

    private CallNotification New(int clients = 2, string from = "client:alice") =>
        CallNotification.Receive(
            Account, "WB" + Guid.NewGuid().ToString("N"), "CA" + Guid.NewGuid().ToString("N"), from, "client:bob", ClientIdentity.Parse("bob"),
            "twilio.voice.call", Encoding.UTF8.GetBytes("{\"twi_to\":\"client:bob\"}"), _now, TimeSpan.FromSeconds(30),
            [.. Enumerable.Range(0, clients).Select(i => DeliveryTarget.ForSession("WS" + Guid.NewGuid().ToString("N")[..8] + i))]);

    private async Task<CallNotification> ReadAsync(CallNotification notification) =>
        await _notifications.FindAsync(Account, notification.TwiMessageId, CancellationToken.None)
        ?? throw new AssertionException($"{notification.TwiMessageId} is not on record.");

    private static string History(Delivery d) => string.Join(", ", d.Events.Select(e => $"{e.Kind.ToWire()}:{e.Detail}"));

    [Test]
    public async Task ANotificationReadsBackAsRecordedAndItsMessageIdIsTakenOnce()
    {
        var notification = New(from: "client:" + new string('a', 248) + "\U0001F600");

        var other = New();
        var sameMessage = CallNotification.Restore(
            other.Id, other.AccountSid, notification.TwiMessageId, other.CallSid, other.From, other.To, other.Identity, other.MessageType,
            other.RawBody, other.ReceivedAt, other.ExpiresAt, other.Deliveries);

        var first = await _notifications.TryAddAsync(notification, CancellationToken.None);
        var again = await _notifications.TryAddAsync(sameMessage, CancellationToken.None);
        var read = await ReadAsync(notification);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(first, Is.True);
            Assert.That(again, Is.False, "(account, twi_message_id) is recorded once");
            Assert.That(read.Id, Is.EqualTo(notification.Id));
            Assert.That(read.From, Is.EqualTo(notification.From), "text is kept exactly, emoji and all");
            Assert.That(read.RawBody, Is.EqualTo(notification.RawBody));
            Assert.That(read.ReceivedAt, Is.EqualTo(notification.ReceivedAt));
            Assert.That(read.Outcome, Is.EqualTo(NotificationOutcome.Pending));
            Assert.That(read.Deliveries.Select(d => d.Id), Is.EquivalentTo(notification.Deliveries.Select(d => d.Id)));
            Assert.That(read.Deliveries.Select(d => d.Status), Is.All.EqualTo(DeliveryStatus.Pending));
            Assert.That(read.Deliveries.SelectMany(d => d.Events), Is.Empty);
        }
    }

    private IncomingCall Arriving(string identity, string? messageId = null) =>
        CallNotification.Arrive(
            Account, messageId ?? "WB" + Guid.NewGuid().ToString("N"), "CA" + Guid.NewGuid().ToString("N"), "client:alice", "client:" + identity,
            ClientIdentity.Parse(identity), "twilio.voice.call", Encoding.UTF8.GetBytes("{\"twi_to\":\"client:" + identity + "\"}"), _now,
            TimeSpan.FromSeconds(30));

    private async Task<Binding> BindAsync(string identity, ChannelKind channel = ChannelKind.Fcm, AccountSid? account = null, DateTimeOffset? registeredAt = null)
    {
        var binding = Binding.Register(
            account ?? Account, ClientIdentity.Parse(identity), channel,
            PushAddress.Parse(channel, channel == ChannelKind.Fcm ? "fcm-token-" + Guid.NewGuid().ToString("N") : Convert.ToHexStringLower(Guid.NewGuid().ToByteArray()) + Convert.ToHexStringLower(Guid.NewGuid().ToByteArray())),
            ApnsEnvironment.Production, null, registeredAt ?? _now.AddMinutes(-1), TimeSpan.FromDays(1));
        await _bindings.AddAsync(binding, CancellationToken.None);
        return binding;
    }

    [Test]
    public async Task ACallIsRecordedWithOneNumberedDeliveryToEachActiveBindingOfItsCallee()
    {
        var identity = "record-" + Guid.NewGuid().ToString("N")[..8];
        Binding[] active = [await BindAsync(identity), await BindAsync(identity, ChannelKind.ApnsVoip), await BindAsync(identity)];
        var inactive = await BindAsync(identity);
        await _bindings.UpdateAsync(inactive.Id, b => b.Deactivate(InactiveReasons.Unregistered, _now), CancellationToken.None);
        await BindAsync(identity, registeredAt: _now.AddDays(-2));
        await BindAsync(identity + "-other");
        await BindAsync(identity, account: AccountSid.Parse(CallNotifyApp.OtherAccountSid));
        var incoming = Arriving(identity);

        var recording = await _notifications.RecordAsync(incoming, CancellationToken.None);
        var read = await _notifications.FindAsync(Account, incoming.TwiMessageId, CancellationToken.None);

        string[] byId = [.. active.Select(b => b.Id).Order(StringComparer.Ordinal)];
        var recorded = recording.Notification;
        using (Assert.EnterMultipleScope())
        {
            Assert.That(recording.Kind, Is.EqualTo(CallRecordingKind.Recorded));
            Assert.That(recorded?.Id, Is.EqualTo(incoming.Id));
            Assert.That(recorded?.Deliveries.Select(d => d.BindingId), Is.EqualTo(byId), "the active, unexpired bindings of this callee, by id");
            Assert.That(recorded?.Deliveries.Select(d => d.Channel), Is.EqualTo(byId.Select(id => active.Single(b => b.Id == id).Channel)));
            Assert.That(
                recorded?.Deliveries.Select(d => d.Id),
                Is.EqualTo(Enumerable.Range(0, 3).Select(i => Ids.Numbered(Ids.DeliveryPrefix, incoming.Id, i))),
                "delivery i's id is numbered from the notification's");
            Assert.That(recording.Bindings.Select(b => b.Id), Is.EqualTo(byId), "the bindings, as read with the record");
            Assert.That(read?.Deliveries.Select(d => (d.Id, d.BindingId, d.Channel)), Is.EqualTo(recorded?.Deliveries.Select(d => (d.Id, d.BindingId, d.Channel))), "on record as answered");
            Assert.That(read?.RawBody, Is.EqualTo(incoming.RawBody));
            Assert.That(read?.ExpiresAt, Is.EqualTo(incoming.ExpiresAt));
        }
    }

    [Test]
    public async Task ACalleeWithoutClientsIsNotRecordedAndAKnownMessageIsNotRecordedAgain()
    {
        var identity = "record-" + Guid.NewGuid().ToString("N")[..8];
        var nobody = Arriving(identity + "-nobody");
        await BindAsync(identity);
        var first = Arriving(identity);
        var remembered = Arriving(identity);
        await _notifications.TryRememberAsync(Account, remembered.TwiMessageId, NotificationOutcome.NoActiveClients, _now, CancellationToken.None);

        var none = await _notifications.RecordAsync(nobody, CancellationToken.None);
        var recorded = await _notifications.RecordAsync(first, CancellationToken.None);
        var again = await _notifications.RecordAsync(Arriving(identity, first.TwiMessageId), CancellationToken.None);
        var afterRemembered = await _notifications.RecordAsync(remembered, CancellationToken.None);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(none.Kind, Is.EqualTo(CallRecordingKind.NoClients));
            Assert.That(await _notifications.FindAsync(Account, nobody.TwiMessageId, CancellationToken.None), Is.Null);
            Assert.That(recorded.Kind, Is.EqualTo(CallRecordingKind.Recorded));
            Assert.That(again.Kind, Is.EqualTo(CallRecordingKind.AlreadyKnown), "(account, twi_message_id) is recorded once");
            Assert.That((await _notifications.FindAsync(Account, first.TwiMessageId, CancellationToken.None))?.Id, Is.EqualTo(first.Id));
            Assert.That(afterRemembered.Kind, Is.EqualTo(CallRecordingKind.AlreadyKnown), "a remembered message is never recorded");
            Assert.That(await _notifications.FindAsync(Account, remembered.TwiMessageId, CancellationToken.None), Is.Null);
        }
    }

    [Test]
    public async Task OfManyConcurrentRecordsOfOneMessageOneIsRecordedAndOfManyCalleesEachGetsItsOwn()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        var bindings = new Dictionary<string, string>();
        for (var k = 0; k < 8; k++)
        {
            bindings["record-" + run + "-" + k] = (await BindAsync("record-" + run + "-" + k)).Id;
        }

        var messageId = "WB" + Guid.NewGuid().ToString("N");
        var sameMessage = await Task.WhenAll(Enumerable.Range(0, 16).Select(k => Task.Run(() =>
            _notifications.RecordAsync(Arriving("record-" + run + "-" + (k % 8), messageId), CancellationToken.None))));
        var calls = Enumerable.Range(0, 64).Select(k => Arriving("record-" + run + "-" + (k % 8))).ToList();
        var many = await Task.WhenAll(calls.Select(c => Task.Run(() => _notifications.RecordAsync(c, CancellationToken.None))));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(sameMessage.Count(r => r.Kind == CallRecordingKind.Recorded), Is.EqualTo(1));
            Assert.That(sameMessage.Count(r => r.Kind == CallRecordingKind.AlreadyKnown), Is.EqualTo(15));
            for (var i = 0; i < calls.Count; i++)
            {
                Assert.That(many[i].Kind, Is.EqualTo(CallRecordingKind.Recorded));
                Assert.That(many[i].Notification?.Deliveries.Select(d => d.BindingId), Is.EqualTo(new[] { bindings[calls[i].Identity.Value] }), $"call {i} rings its own callee");
            }
        }
    }

    [Test]
    public async Task ResultsAndAcksAppendToTheirOwnDeliverysHistoryInOrder()
    {
        var notification = New();
        await _notifications.TryAddAsync(notification, CancellationToken.None);
        var (first, second) = (notification.Deliveries[0], notification.Deliveries[1]);

        await _notifications.UpdateAsync(notification.Id, n => n.RecordResult(first.Id, DeliveryResult.Retry("busy"), _now.AddMilliseconds(1), _now.AddMilliseconds(50)), CancellationToken.None);
        await _notifications.UpdateAsync(notification.Id, n => n.RecordResult(first.Id, DeliveryResult.Accepted(), _now.AddMilliseconds(60)), CancellationToken.None);
        await _notifications.UpdateAsync(notification.Id, n => n.Acknowledge(first.SessionId!, _now.AddMilliseconds(70)), CancellationToken.None);
        await _notifications.UpdateAsync(notification.Id, n => n.RecordResult(second.Id, DeliveryResult.ClientGone(DeliveryErrors.SessionClosed), _now.AddMilliseconds(80)), CancellationToken.None);
        var read = await ReadAsync(notification);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(read.Outcome, Is.EqualTo(NotificationOutcome.Delivered));
            Assert.That(History(read.GetDelivery(first.Id)), Is.EqualTo("retry:busy, accepted:, acknowledged:"));
            Assert.That(History(read.GetDelivery(second.Id)), Is.EqualTo("client-gone:session-closed"));
            Assert.That(read.GetDelivery(first.Id).Events.Select(e => e.At), Is.Ordered);
            Assert.That(read.GetDelivery(first.Id).AcknowledgedAt, Is.EqualTo(_now.AddMilliseconds(70)));
            Assert.That(read.GetDelivery(second.Id).ClientGone, Is.True);
        }
    }

    [Test]
    public async Task ConcurrentChangesToOneNotificationAreAllKept()
    {
        var notification = New(clients: 8);
        await _notifications.TryAddAsync(notification, CancellationToken.None);

        await Task.WhenAll(notification.Deliveries.Select(d => Task.Run(() =>
            _notifications.UpdateAsync(notification.Id, n => n.RecordResult(d.Id, DeliveryResult.Accepted(), _now.AddMilliseconds(5)), CancellationToken.None))));
        var read = await ReadAsync(notification);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(read.Deliveries.Select(d => d.Status), Is.All.EqualTo(DeliveryStatus.Accepted), "no change is lost to another");
            Assert.That(read.Deliveries.Select(History), Is.All.EqualTo("accepted:"), "each history holds its one event");
        }
    }

    [Test]
    public async Task AChangeThatChangesNothingWritesNothingAndAnUnknownNotificationIsNull()
    {
        var notification = New();
        await _notifications.TryAddAsync(notification, CancellationToken.None);

        var unchanged = await _notifications.UpdateAsync(notification.Id, _ => false, CancellationToken.None);
        var unknown = await _notifications.UpdateAsync("NT" + Guid.NewGuid().ToString("N"), _ => true, CancellationToken.None);
        var byMessage = await _notifications.UpdateAsync(Account, "WB-unknown", _ => true, CancellationToken.None);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(unchanged?.Deliveries.SelectMany(d => d.Events), Is.Empty);
            Assert.That((await ReadAsync(notification)).Deliveries.SelectMany(d => d.Events), Is.Empty);
            Assert.That(unknown, Is.Null);
            Assert.That(byMessage, Is.Null);
        }
    }

    [Test]
    public async Task OverdueWorkIsFoundInItsWindowUntilItIsFinalAndPurgingTakesTheHistoryWithIt()
    {
        var notification = New(clients: 1);
        await _notifications.TryAddAsync(notification, CancellationToken.None);
        var delivery = notification.Deliveries.Single();
        var due = new StalledDelivery(notification.Id, delivery.Id, _now);

        var overdue = await _notifications.FindStalledAsync(_now.AddSeconds(-1), _now.AddSeconds(1), 1000, CancellationToken.None);
        var before = await _notifications.FindStalledAsync(_now.AddSeconds(-2), _now.AddSeconds(-1), 1000, CancellationToken.None);
        var after = await _notifications.FindStalledAsync(_now, _now.AddSeconds(1), 1000, CancellationToken.None);
        await _notifications.UpdateAsync(notification.Id, n => n.RecordResult(delivery.Id, DeliveryResult.Accepted(), _now.AddMilliseconds(5)), CancellationToken.None);
        var final = await _notifications.FindStalledAsync(_now.AddSeconds(-1), _now.AddSeconds(1), 1000, CancellationToken.None);
        var purged = await _history.PurgeReceivedBeforeAsync(_now.AddMilliseconds(1), 1000, CancellationToken.None);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(overdue, Does.Contain(due), "due when it arrived, inside the window");
            Assert.That(before, Does.Not.Contain(due), "a window that ends before it fell due");
            Assert.That(after, Does.Not.Contain(due), "a window that starts at the instant it fell due (read by the one before)");
            Assert.That(final, Does.Not.Contain(due));
            Assert.That(purged, Is.GreaterThanOrEqualTo(1));
            Assert.That(await _notifications.FindAsync(Account, notification.TwiMessageId, CancellationToken.None), Is.Null);
        }
    }

    [Test]
    public async Task AMessageIdAnsweredWithoutARecordIsRememberedOnceAndNeverRecordedAfter()
    {
        var notification = New(clients: 1);
        var messageId = notification.TwiMessageId;

        var first = await _notifications.TryRememberAsync(Account, messageId, NotificationOutcome.NoActiveClients, _now, CancellationToken.None);
        var again = await _notifications.TryRememberAsync(Account, messageId, NotificationOutcome.Failed, _now, CancellationToken.None);
        var remembered = await _notifications.FindRememberedAsync(Account, messageId, CancellationToken.None);
        var added = await _notifications.TryAddAsync(notification, CancellationToken.None);
        var otherAccount = await _notifications.FindRememberedAsync(AccountSid.Parse(CallNotifyApp.OtherAccountSid), messageId, CancellationToken.None);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(first, Is.True);
            Assert.That(again, Is.False, "remembered once: the first outcome stays");
            Assert.That(remembered, Is.EqualTo(NotificationOutcome.NoActiveClients));
            Assert.That(added, Is.False, "a remembered message id is never recorded (a replay rings nobody)");
            Assert.That(await _notifications.FindAsync(Account, messageId, CancellationToken.None), Is.Null);
            Assert.That(otherAccount, Is.Null, "per account");
        }
    }

    [Test]
    public async Task ARecordedMessageIdIsNotRememberedAndAPurgedOneIsWithItsOutcome()
    {
        var delivered = New(clients: 1);
        var unanswered = New(clients: 1);
        await _notifications.TryAddAsync(delivered, CancellationToken.None);
        await _notifications.TryAddAsync(unanswered, CancellationToken.None);
        await _notifications.UpdateAsync(
            delivered.Id, n => n.RecordResult(delivered.Deliveries.Single().Id, DeliveryResult.Accepted(), _now.AddMilliseconds(5)), CancellationToken.None);

        var whileRecorded = await _notifications.TryRememberAsync(Account, delivered.TwiMessageId, NotificationOutcome.NoActiveClients, _now, CancellationToken.None);
        var purged = await _history.PurgeReceivedBeforeAsync(_now.AddMilliseconds(1), 1000, CancellationToken.None);
        var rememberedDelivered = await _notifications.FindRememberedAsync(Account, delivered.TwiMessageId, CancellationToken.None);
        var rememberedUnanswered = await _notifications.FindRememberedAsync(Account, unanswered.TwiMessageId, CancellationToken.None);
        var addedAgain = await _notifications.TryAddAsync(delivered, CancellationToken.None);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(whileRecorded, Is.False, "the record answers for it");
            Assert.That(purged, Is.GreaterThanOrEqualTo(2));
            Assert.That(rememberedDelivered, Is.EqualTo(NotificationOutcome.Delivered), "the body is gone, the outcome stays");
            Assert.That(rememberedUnanswered, Is.EqualTo(NotificationOutcome.Failed), "still pending when purged: it never will be decided");
            Assert.That(addedAgain, Is.False, "a replay after the purge is not recorded again");
        }
    }

    [Test]
    public async Task TwoSweepersPurgingAtOnceBothSucceedAndEveryOutcomeIsRemembered()
    {
        var notifications = Enumerable.Range(0, 40).Select(_ => New(clients: 1)).ToList();
        foreach (var notification in notifications)
        {
            await _notifications.TryAddAsync(notification, CancellationToken.None);
        }

        INotificationHistory otherHistory = _history;
        CallNotifyApp? other = null;
        if (_store is not null)
        {
            other = new CallNotifyApp(_store);
            _ = other.BaseAddress;
            otherHistory = other.Services.GetRequiredService<INotificationHistory>();
        }

        try
        {
            var cutoff = _now.AddMilliseconds(1);
            var purged = await Task.WhenAll(
                Enumerable.Range(0, 3).Select(_ => _history.PurgeReceivedBeforeAsync(cutoff, 10, CancellationToken.None))
                    .Concat(Enumerable.Range(0, 3).Select(_ => otherHistory.PurgeReceivedBeforeAsync(cutoff, 10, CancellationToken.None))));
            while (await _history.PurgeReceivedBeforeAsync(cutoff, 10, CancellationToken.None) > 0)
            {
            }

            var remembered = new List<NotificationOutcome?>();
            foreach (var notification in notifications)
            {
                remembered.Add(await _notifications.FindRememberedAsync(Account, notification.TwiMessageId, CancellationToken.None));
            }

            using (Assert.EnterMultipleScope())
            {
                Assert.That(purged.Sum(), Is.GreaterThan(0));
                Assert.That(remembered, Is.All.EqualTo(NotificationOutcome.Failed), "every purged record's outcome (pending: failed)");
            }
        }
        finally
        {
            if (other is not null)
            {
                await other.DisposeAsync();
            }
        }
    }

    [Test]
    public async Task RememberedMessageIdsAreForgottenOnlyOnceOlderThanTheCutoff()
    {
        var old = "WB" + Guid.NewGuid().ToString("N");
        var recent = "WB" + Guid.NewGuid().ToString("N");
        await _notifications.TryRememberAsync(Account, old, NotificationOutcome.NoActiveClients, _now.AddDays(-31), CancellationToken.None);
        await _notifications.TryRememberAsync(Account, recent, NotificationOutcome.NoActiveClients, _now, CancellationToken.None);

        var forgotten = await _history.ForgetRememberedBeforeAsync(_now.AddDays(-30), 1000, CancellationToken.None);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(forgotten, Is.GreaterThanOrEqualTo(1));
            Assert.That(await _notifications.FindRememberedAsync(Account, old, CancellationToken.None), Is.Null);
            Assert.That(await _notifications.FindRememberedAsync(Account, recent, CancellationToken.None), Is.EqualTo(NotificationOutcome.NoActiveClients));
        }
    }

    [Test]
    public async Task ARetryIsDueWhenItsBackoffEndsAndATakeoverWhenItsLeaseEnds()
    {
        var notification = New(clients: 1);
        await _notifications.TryAddAsync(notification, CancellationToken.None);
        var delivery = notification.Deliveries.Single();
        var retryAt = _now.AddSeconds(10);
        await _notifications.UpdateAsync(notification.Id, n => n.RecordResult(delivery.Id, DeliveryResult.Retry("busy"), _now.AddSeconds(1), retryAt), CancellationToken.None);

        var atArrival = await _notifications.FindStalledAsync(_now.AddSeconds(-1), _now.AddSeconds(1), 1000, CancellationToken.None);
        var atRetry = await _notifications.FindStalledAsync(_now.AddSeconds(9), _now.AddSeconds(11), 1000, CancellationToken.None);
        var leaseUntil = _now.AddSeconds(40);
        await _notifications.UpdateAsync(notification.Id, n => n.TakeOverDelivery(delivery.Id, retryAt, leaseUntil, _now.AddSeconds(20)), CancellationToken.None);
        var afterTakeover = await _notifications.FindStalledAsync(_now.AddSeconds(9), _now.AddSeconds(11), 1000, CancellationToken.None);
        var atLeaseEnd = await _notifications.FindStalledAsync(_now.AddSeconds(39), _now.AddSeconds(41), 1000, CancellationToken.None);
        var read = await ReadAsync(notification);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(atArrival.Select(s => s.DeliveryId), Does.Not.Contain(delivery.Id), "attempted once: no longer due at arrival");
            Assert.That(atRetry, Does.Contain(new StalledDelivery(notification.Id, delivery.Id, retryAt)));
            Assert.That(afterTakeover.Select(s => s.DeliveryId), Does.Not.Contain(delivery.Id), "taken over: its retry is no longer due");
            Assert.That(atLeaseEnd, Does.Contain(new StalledDelivery(notification.Id, delivery.Id, leaseUntil)));
            Assert.That(History(read.GetDelivery(delivery.Id)), Is.EqualTo("retry:busy, taken-over:"));
            Assert.That(read.GetDelivery(delivery.Id).NextAttemptAt, Is.EqualTo(leaseUntil));
        }
    }

    [Test]
    public async Task OfTwoInstancesTakingOneDeliveryOverAtOnceOnlyOneWinsAndTheOtherSeesItsTakeover()
    {
        var (otherNotifications, lifetime) = await AnotherInstanceAsync();
        await using var _ = lifetime;
        var notification = New(clients: 1);
        await _notifications.TryAddAsync(notification, CancellationToken.None);
        var delivery = notification.Deliveries.Single();

        for (var round = 1; round <= 5; round++)
        {
            var at = _now.AddSeconds(30 * round);
            var wins = await Task.WhenAll(
                TakeOverAsync(_notifications, at),
                TakeOverAsync(otherNotifications, at));
            Assert.That(wins.Count(w => w), Is.EqualTo(1), $"round {round}: exactly one takeover");
        }

        var read = await ReadAsync(notification);
        Assert.That(History(read.GetDelivery(delivery.Id)), Is.EqualTo(string.Join(", ", Enumerable.Repeat("taken-over:", 5))));

        async Task<bool> TakeOverAsync(INotificationStore store, DateTimeOffset at)
        {
            var tookOver = false;
            await Task.Yield();
            await store.UpdateAsync(notification.Id, n => tookOver = n.TakeOverDelivery(delivery.Id, at, at.AddSeconds(20), at), CancellationToken.None);
            return tookOver;
        }
    }
}
