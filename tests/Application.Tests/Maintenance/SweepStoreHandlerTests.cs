using CallNotify.Application.Common.Options;
using CallNotify.Application.Maintenance.SweepStore;
using CallNotify.Application.Tests.Fakes;
using CallNotify.Application.Tests.Support;
using CallNotify.Domain.Bindings;
using CallNotify.Domain.Notifications;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace CallNotify.Application.Tests.Maintenance;

public sealed class SweepStoreHandlerTests
{
    private FakeTimeProvider _time = null!;
    private InMemoryBindingRepository _bindings = null!;
    private InMemoryNotificationRepository _notifications = null!;

    // NUnit shares one fixture instance between tests: every test starts from empty stores.
    [SetUp]
    public void StartEmpty()
    {
        _time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 28, 12, 0, 0, TimeSpan.Zero));
        _bindings = new InMemoryBindingRepository();
        _notifications = new InMemoryNotificationRepository();
    }

    [Test]
    public async Task ExpiresBindingsPastTheirTtlAndLeavesTheOthers()
    {
        var old = TestData.FcmBinding("old-token", _time.GetUtcNow());   // 30-day TTL
        await _bindings.AddAsync(old, CancellationToken.None);
        _time.Advance(TimeSpan.FromDays(20));
        var fresh = TestData.FcmBinding("fresh-token", _time.GetUtcNow());
        await _bindings.AddAsync(fresh, CancellationToken.None);
        _time.Advance(TimeSpan.FromDays(11));

        var result = await Handler(batchSize: 500).Handle(new SweepStoreCommand(), CancellationToken.None);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.BindingsExpired, Is.EqualTo(1));
            Assert.That(_bindings[old.Id]!.Status, Is.EqualTo(BindingStatus.Inactive));
            Assert.That(_bindings[old.Id]!.InactiveReason, Is.EqualTo(InactiveReasons.Expired));
            Assert.That(_bindings[fresh.Id]!.Status, Is.EqualTo(BindingStatus.Active));
        }
    }

    [Test]
    public async Task WorksThroughMoreThanOneBatch()
    {
        for (var i = 0; i < 7; i++)
        {
            await _bindings.AddAsync(TestData.FcmBinding($"token-{i}", _time.GetUtcNow()), CancellationToken.None);
        }

        _time.Advance(TimeSpan.FromDays(31));

        var result = await Handler(batchSize: 3).Handle(new SweepStoreCommand(), CancellationToken.None);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.BindingsExpired, Is.EqualTo(7));
            Assert.That(_bindings.All.All(b => b.Status == BindingStatus.Inactive), Is.True);
        }
    }

    [Test]
    public async Task PurgesNotificationsOlderThanTheRetention()
    {
        await _notifications.TryAddAsync(Notification("WB1"), CancellationToken.None);
        _time.Advance(TimeSpan.FromDays(6));
        await _notifications.TryAddAsync(Notification("WB2"), CancellationToken.None);
        _time.Advance(TimeSpan.FromDays(2));

        var result = await Handler(batchSize: 500).Handle(new SweepStoreCommand(), CancellationToken.None);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.NotificationsPurged, Is.EqualTo(1));
            Assert.That(_notifications.All.Select(n => n.TwiMessageId), Is.EqualTo(new[] { "WB2" }));
        }
    }

    [Test]
    public async Task ASecondSweepFindsNothingLeft()
    {
        await _bindings.AddAsync(TestData.FcmBinding("token", _time.GetUtcNow()), CancellationToken.None);
        await _notifications.TryAddAsync(Notification("WB1"), CancellationToken.None);
        _time.Advance(TimeSpan.FromDays(31));
        var handler = Handler(batchSize: 500);

        await handler.Handle(new SweepStoreCommand(), CancellationToken.None);
        var again = await handler.Handle(new SweepStoreCommand(), CancellationToken.None);

        Assert.That(again, Is.EqualTo(new SweepResult(0, 0, 0, 0)));
    }

    [Test]
    public async Task DeactivatesTheLeastRecentlyRefreshedBindingsBeyondTheLimit()
    {
        var ids = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            var binding = TestData.FcmBinding($"crowd-{i}", _time.GetUtcNow());
            await _bindings.AddAsync(binding, CancellationToken.None);
            ids.Add(binding.Id);
            _time.Advance(TimeSpan.FromMinutes(1));
        }

        var result = await Handler(batchSize: 500, maxPerIdentity: 2).Handle(new SweepStoreCommand(), CancellationToken.None);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.BindingsSuperseded, Is.EqualTo(2));
            Assert.That(ids.Select(id => _bindings[id]!.Status), Is.EqualTo(new[] { BindingStatus.Inactive, BindingStatus.Inactive, BindingStatus.Active, BindingStatus.Active }));
            Assert.That(_bindings[ids[0]]!.InactiveReason, Is.EqualTo(InactiveReasons.Superseded));
        }
    }

    private SweepStoreHandler Handler(int batchSize, int maxPerIdentity = 20) =>
        new(
            _bindings,
            _notifications,
            Options.Create(new RetentionOptions { NotificationDays = 7, BatchSize = batchSize }),
            Options.Create(new BindingOptions { MaxPerIdentity = maxPerIdentity }),
            _time);

    private CallNotification Notification(string messageId) =>
        CallNotification.Receive(
            TestData.Account,
            messageId,
            "CA1",
            "client:alice",
            "client:bob",
            TestData.Bob,
            "twilio.voice.call",
            TestData.WebhookBody(messageId),
            _time.GetUtcNow(),
            TimeSpan.FromSeconds(30),
            [DeliveryTarget.ForSession("WS0123456789abcdef0123456789abcdef")]);
}
