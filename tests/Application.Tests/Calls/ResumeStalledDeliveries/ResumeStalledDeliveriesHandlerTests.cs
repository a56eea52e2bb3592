using CallNotify.Application.Calls.Dispatch;
using CallNotify.Application.Calls.ResumeStalledDeliveries;
using CallNotify.Application.Common.Options;
using CallNotify.Application.Tests.Fakes;
using CallNotify.Application.Tests.Support;
using CallNotify.Domain.Bindings;
using CallNotify.Domain.Common;
using CallNotify.Domain.Notifications;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace CallNotify.Application.Tests.Calls.ResumeStalledDeliveries;

public sealed class ResumeStalledDeliveriesHandlerTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 28, 12, 0, 0, TimeSpan.Zero);

    private FakeTimeProvider _time = null!;
    private InMemoryBindingRepository _bindings = null!;
    private InMemoryNotificationRepository _notifications = null!;
    private ScriptedNotificationChannel _fcm = null!;
    private InlineDeliveryJobs _jobs = null!;
    private NotificationDispatcher _dispatcher = null!;

    [SetUp]
    public void SetUp()
    {
        _time = new FakeTimeProvider(Start);
        _bindings = new InMemoryBindingRepository();
        _notifications = new InMemoryNotificationRepository(_bindings);
        _fcm = new ScriptedNotificationChannel(ChannelKind.Fcm).AlwaysAnswer(DeliveryResult.Accepted());
        _jobs = new InlineDeliveryJobs(new DeliveryRunner([_fcm], _notifications, _bindings, _time, NullLogger<DeliveryRunner>.Instance));
        _dispatcher = new NotificationDispatcher(
            _jobs, Options.Create(new DispatchOptions { InviteTtlSeconds = 30 }), _time, NullLogger<NotificationDispatcher>.Instance);
    }

    [TearDown]
    public void TearDown() => _jobs.Dispose();

    [Test]
    public async Task TakesOverAnOverdueDeliveryAndSendsIt()
    {
        var (notification, _) = await RecordPendingAsync(inviteTtl: TimeSpan.FromSeconds(60));
        _time.Advance(TimeSpan.FromSeconds(25));   // its dispatcher went silent 25 s ago

        var result = await Handler().Handle(new ResumeStalledDeliveriesCommand(), CancellationToken.None);
        var sent = await _fcm.WaitForCallsAsync(1, TimeSpan.FromSeconds(10));
        var delivery = await Eventually.Until(async () => (await _notifications.FindAsync(TestData.Account, notification.TwiMessageId, CancellationToken.None))!.Deliveries.Single(), d => d.IsFinal);

        using (Assert.EnterMultipleScope())
        {
            Assert.That((result.Resumed, result.Expired), Is.EqualTo((1, 0)));
            Assert.That(sent, Is.True);
            Assert.That(delivery.Status, Is.EqualTo(DeliveryStatus.Accepted));
        }
    }

    [Test]
    public async Task LeavesADeliveryItsDispatcherStillOwns()
    {
        await RecordPendingAsync(inviteTtl: TimeSpan.FromSeconds(60));
        _time.Advance(ResumeStalledDeliveriesHandler.TakeoverAfter - TimeSpan.FromSeconds(1));

        var result = await Handler().Handle(new ResumeStalledDeliveriesCommand(), CancellationToken.None);

        using (Assert.EnterMultipleScope())
        {
            Assert.That((result.Resumed, result.Expired), Is.EqualTo((0, 0)));
            Assert.That(_fcm.Calls, Is.Empty);
        }
    }

    [Test]
    public async Task RecordsAnExpiredInviteAsExpiredAndNeverSendsIt()
    {
        var (notification, _) = await RecordPendingAsync(inviteTtl: TimeSpan.FromSeconds(30));
        _time.Advance(TimeSpan.FromSeconds(31));

        var result = await Handler().Handle(new ResumeStalledDeliveriesCommand(), CancellationToken.None);
        var recorded = await _notifications.FindAsync(TestData.Account, notification.TwiMessageId, CancellationToken.None);

        using (Assert.EnterMultipleScope())
        {
            Assert.That((result.Resumed, result.Expired), Is.EqualTo((0, 1)));
            Assert.That(recorded!.Deliveries.Single().Status, Is.EqualTo(DeliveryStatus.Expired));
            Assert.That(_fcm.Calls, Is.Empty);
        }
    }

    [Test]
    public async Task OnlyOneOfTwoConcurrentSweepsTakesADeliveryOver()
    {
        await RecordPendingAsync(inviteTtl: TimeSpan.FromSeconds(60));
        _time.Advance(TimeSpan.FromSeconds(25));

        var results = await Task.WhenAll(
            Handler().Handle(new ResumeStalledDeliveriesCommand(), CancellationToken.None).AsTask(),
            Handler().Handle(new ResumeStalledDeliveriesCommand(), CancellationToken.None).AsTask());

        Assert.That(results.Sum(r => r.Resumed), Is.EqualTo(1));
    }

    [Test]
    public async Task ADeliveryToABindingDeactivatedMeanwhileIsNotSent()
    {
        var (notification, binding) = await RecordPendingAsync(inviteTtl: TimeSpan.FromSeconds(60));
        await _bindings.UpdateAsync(binding.Id, b => b.Deactivate(InactiveReasons.Unregistered, _time.GetUtcNow()), CancellationToken.None);
        _time.Advance(TimeSpan.FromSeconds(25));

        await AssertTakenOverButNotSentAsync(notification);
    }

    [Test]
    public async Task ADeliveryToABindingDeletedMeanwhileIsNotSent()
    {
        var (notification, binding) = await RecordPendingAsync(inviteTtl: TimeSpan.FromSeconds(60));
        await _bindings.DeleteAsync(binding.Id, CancellationToken.None);
        _time.Advance(TimeSpan.FromSeconds(25));

        await AssertTakenOverButNotSentAsync(notification);
    }

    [TestCase(false, TestName = "ADeliveryToABindingMovedToAnotherIdentityMeanwhileIsNotSent")]
    [TestCase(true, TestName = "ADeliveryToABindingMovedToAnotherAccountMeanwhileIsNotSent")]
    public async Task ADeliveryToABindingMovedMeanwhileIsNotSent(bool otherAccount)
    {
        var (notification, binding) = await RecordPendingAsync(inviteTtl: TimeSpan.FromSeconds(60));

        // The same device registered again, now as someone else: the latest registration of a (channel, address) wins.
        await _bindings.UpdateAsync(
            binding.Id,
            b =>
            {
                b.Reregister(
                    otherAccount ? TestData.OtherAccount : TestData.Account, ClientIdentity.Parse(otherAccount ? "bob" : "mallory"),
                    ApnsEnvironment.Production, null, _time.GetUtcNow(), TimeSpan.FromDays(30));
                return true;
            },
            CancellationToken.None);
        _time.Advance(TimeSpan.FromSeconds(25));

        await AssertTakenOverButNotSentAsync(notification);
    }

    private async Task AssertTakenOverButNotSentAsync(CallNotification notification)
    {
        var result = await Handler().Handle(new ResumeStalledDeliveriesCommand(), CancellationToken.None);
        var delivery = await Eventually.Until(
            async () => (await _notifications.FindAsync(TestData.Account, notification.TwiMessageId, CancellationToken.None))!.Deliveries.Single(),
            d => d.IsFinal);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.Resumed, Is.EqualTo(1));
            Assert.That(delivery.Status, Is.EqualTo(DeliveryStatus.Failed));
            Assert.That(delivery.LastError, Is.EqualTo(DeliveryErrors.BindingInactive));
            Assert.That(_fcm.Calls, Is.Empty);
        }
    }

    private ResumeStalledDeliveriesHandler Handler() => new(_notifications, _dispatcher, _time);

    /// <summary>A notification recorded with one pending FCM delivery that nobody is working on.</summary>
    private async Task<(CallNotification Notification, Binding Binding)> RecordPendingAsync(TimeSpan inviteTtl)
    {
        var binding = TestData.FcmBinding("fcm-token-" + Guid.NewGuid().ToString("N"), _time.GetUtcNow());
        await _bindings.AddAsync(binding, CancellationToken.None);
        var notification = CallNotification.Receive(
            TestData.Account, "WB" + Guid.NewGuid().ToString("N"), "CA1", "client:alice", "client:bob", TestData.Bob, "twilio.voice.call",
            TestData.WebhookBody(), _time.GetUtcNow(), inviteTtl, [DeliveryTarget.ForBinding(binding.Id, binding.Channel)]);
        Assert.That(await _notifications.TryAddAsync(notification, CancellationToken.None), Is.True);
        return (notification, binding);
    }
}
