using System.Diagnostics;
using System.Net.Http;
using CallNotify.Application.Calls.Dispatch;
using CallNotify.Application.Common.Options;
using CallNotify.Application.Common.Ports;
using CallNotify.Application.Tests.Fakes;
using CallNotify.Application.Tests.Support;
using CallNotify.Domain.Bindings;
using CallNotify.Domain.Common;
using CallNotify.Domain.Notifications;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace CallNotify.Application.Tests.Calls.Dispatch;

/// <summary>
/// The dispatcher runs on fake time: its backoff and deadline timers fire only when a test advances the clock, so
/// the tests decide when retries happen and cannot be outrun by a slow machine. Every wait is bounded in real time.
/// </summary>
public class NotificationDispatcherTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan Step = TimeSpan.FromMilliseconds(100);
    private static readonly DateTimeOffset Start = new(2026, 11, 28, 12, 0, 0, TimeSpan.Zero);

    private InMemoryBindingRepository _bindings = null!;
    private InMemoryNotificationRepository _notifications = null!;
    private FakeTimeProvider _time = null!;
    private InlineDeliveryJobs? _jobs;

    [SetUp]
    public void SetUp()
    {
        _bindings = new InMemoryBindingRepository();
        _notifications = new InMemoryNotificationRepository(_bindings);
        _time = new FakeTimeProvider(Start);
    }

    [TearDown]
    public void TearDown()
    {
        _jobs?.Dispose();
        _jobs = null;
    }

    private NotificationDispatcher Dispatcher(int inviteTtlSeconds, int responseDeadlineMilliseconds, params INotificationChannel[] channels)
    {
        var options = Options.Create(new DispatchOptions
        {
            InviteTtlSeconds = inviteTtlSeconds,
            ResponseDeadlineMilliseconds = responseDeadlineMilliseconds,
        });
        var runner = new DeliveryRunner(channels, _notifications, _bindings, _time, NullLogger<DeliveryRunner>.Instance);
        _jobs = new InlineDeliveryJobs(runner);
        return new NotificationDispatcher(_jobs, options, _time, NullLogger<NotificationDispatcher>.Instance);
    }

    /// <summary>Records a notification for one FCM binding and starts dispatching it.</summary>
    private async Task<(CallNotification Notification, Binding Binding, Task<NotificationOutcome> Outcome)> StartAsync(
        NotificationDispatcher dispatcher, int inviteTtlSeconds, CancellationToken cancellationToken = default)
    {
        var binding = TestData.FcmBinding("fcm-token-1", Start);
        await _bindings.AddAsync(binding, CancellationToken.None);
        var notification = CallNotification.Receive(
            TestData.Account, "WB1", "CA1", "client:alice", "client:bob", TestData.Bob, "twilio.voice.call", TestData.WebhookBody(),
            _time.GetUtcNow(), TimeSpan.FromSeconds(inviteTtlSeconds), [DeliveryTarget.ForBinding(binding.Id, binding.Channel)]);
        Assert.That(await _notifications.TryAddAsync(notification, CancellationToken.None), Is.True);
        return (notification, binding, dispatcher.DispatchAsync(notification, [binding], cancellationToken));
    }

    /// <summary>
    /// Moves fake time on in <see cref="Step"/>s, while <paramref name="advanceWhile"/> holds, until
    /// <paramref name="task"/> completes; fails after <see cref="Bound"/> of real time.
    /// </summary>
    private async Task<T> AdvanceUntilDoneAsync<T>(Task<T> task, Func<bool> advanceWhile)
    {
        var clock = Stopwatch.StartNew();
        while (!task.IsCompleted && clock.Elapsed < Bound)
        {
            if (advanceWhile())
            {
                _time.Advance(Step);
            }

            await Task.Delay(5);
        }

        return await task.WaitAsync(TimeSpan.FromMilliseconds(100));
    }

    private async Task<Delivery> RecordedDeliveryAsync() =>
        (await _notifications.FindAsync(TestData.Account, "WB1", CancellationToken.None))!.Deliveries.Single();

    [Test]
    public async Task RetriesAPassingFailureAndThenSucceeds()
    {
        var fcm = new ScriptedNotificationChannel(ChannelKind.Fcm, _time).Answer(DeliveryResult.Retry("fcm-503"), DeliveryResult.Accepted());
        var (_, _, dispatch) = await StartAsync(Dispatcher(30, 10_000, fcm), 30);

        // Time moves only between the first attempt and the second: the deadline (10 s) is never reached.
        var outcome = await AdvanceUntilDoneAsync(dispatch, () => fcm.Calls.Count == 1);

        var delivery = await RecordedDeliveryAsync();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(outcome, Is.EqualTo(NotificationOutcome.Delivered));
            Assert.That(fcm.Calls, Has.Count.EqualTo(2));
            Assert.That(delivery.Attempts, Is.EqualTo(2));
            Assert.That(delivery.Status, Is.EqualTo(DeliveryStatus.Accepted));
            Assert.That(delivery.LastError, Is.Null);
            Assert.That(fcm.Calls[1].At - fcm.Calls[0].At, Is.GreaterThanOrEqualTo(TimeSpan.FromMilliseconds(100)), "the retry waits for its backoff");
        }
    }

    [Test]
    public async Task ARetryIsNeverSentToABindingThatMovedToAnotherIdentityMeanwhile()
    {
        var fcm = new ScriptedNotificationChannel(ChannelKind.Fcm, _time).Answer(DeliveryResult.Retry("fcm-503"), DeliveryResult.Accepted());
        var (_, binding, dispatch) = await StartAsync(Dispatcher(30, 10_000, fcm), 30);
        Assert.That(await fcm.WaitForCallsAsync(1, Bound), Is.True);

        // Between the attempts the device is registered again by another user of the app.
        await _bindings.UpdateAsync(
            binding.Id,
            b =>
            {
                b.Reregister(TestData.Account, ClientIdentity.Parse("mallory"), ApnsEnvironment.Production, null, _time.GetUtcNow(), TimeSpan.FromDays(30));
                return true;
            },
            CancellationToken.None);
        var outcome = await AdvanceUntilDoneAsync(dispatch, () => true);

        var delivery = await RecordedDeliveryAsync();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(fcm.Calls, Has.Count.EqualTo(1), "bob's call never reaches mallory's device");
            Assert.That(delivery.Status, Is.EqualTo(DeliveryStatus.Failed));
            Assert.That(delivery.LastError, Is.EqualTo(DeliveryErrors.BindingInactive));
            Assert.That(outcome, Is.EqualTo(NotificationOutcome.NoActiveClients));
        }
    }

    [Test]
    public async Task AnAttemptThatNeverEndsIsCutOffAndRetriedBeforeATakeoverCouldStart()
    {
        var hanging = new HangingChannel(ChannelKind.Fcm);
        var (_, _, dispatch) = await StartAsync(Dispatcher(60, 30_000, hanging), 60);
        Assert.That(await Eventually.TrueAsync(() => hanging.Calls >= 1, Bound), Is.True);

        _time.Advance(DeliveryRunner.AttemptTimeout);
        var delivery = await Eventually.Until(RecordedDeliveryAsync, d => d.Attempts == 1);
        var cancelled = await Eventually.TrueAsync(() => hanging.Cancelled, Bound);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(DeliveryRunner.AttemptTimeout, Is.LessThan(CallNotify.Application.Calls.ResumeStalledDeliveries.ResumeStalledDeliveriesHandler.TakeoverAfter - TimeSpan.FromSeconds(5)));
            Assert.That(delivery.Status, Is.EqualTo(DeliveryStatus.Pending));
            Assert.That(delivery.LastError, Is.EqualTo(DeliveryErrors.AttemptTimeout));
            Assert.That(cancelled, Is.True, "the channel is told to stop");
            Assert.That(dispatch.IsCompleted, Is.False);
        }
    }

    /// <summary>A channel whose send never ends by itself.</summary>
    private sealed class HangingChannel(ChannelKind kind) : INotificationChannel
    {
        private int _calls;
        private int _cancelled;

        public ChannelKind Kind { get; } = kind;

        public int Calls => Volatile.Read(ref _calls);

        public bool Cancelled => Volatile.Read(ref _cancelled) == 1;

        public async ValueTask<DeliveryResult> SendAsync(ChannelMessage message, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _calls);
            try
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                Volatile.Write(ref _cancelled, 1);
                throw;
            }

            return DeliveryResult.Accepted();
        }
    }

    [Test]
    public async Task TheAcceptanceIsTimedWhenTheSendFinishedNotWhenItsRecordIsWritten()
    {
        var fcm = new ScriptedNotificationChannel(ChannelKind.Fcm, _time).Answer(DeliveryResult.Accepted());
        _notifications.BeforeUpdate = () => _time.Advance(TimeSpan.FromMilliseconds(300));
        var (_, _, dispatch) = await StartAsync(Dispatcher(30, 10_000, fcm), 30);

        var outcome = await dispatch.WaitAsync(Bound);

        // The answer does not wait for the accepted event's record (ADR 0019): it is read once it is there.
        var delivery = await Eventually.Until(RecordedDeliveryAsync, d => d.AcceptedAt is not null);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(outcome, Is.EqualTo(NotificationOutcome.Delivered));
            Assert.That(delivery.AcceptedAt, Is.EqualTo(Start), "the send finished at the start; its record was slow");
            Assert.That(_time.GetUtcNow(), Is.GreaterThan(Start), "the store's delay did pass");
        }
    }

    [Test]
    public async Task RetryWaitsAtLeastAsLongAsTheProviderAsked()
    {
        var fcm = new ScriptedNotificationChannel(ChannelKind.Fcm, _time)
            .Answer(DeliveryResult.Retry("fcm-503", TimeSpan.FromSeconds(2)), DeliveryResult.Accepted());
        var (_, _, dispatch) = await StartAsync(Dispatcher(30, 10_000, fcm), 30);

        var outcome = await AdvanceUntilDoneAsync(dispatch, () => fcm.Calls.Count == 1);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(outcome, Is.EqualTo(NotificationOutcome.Delivered));
            Assert.That(fcm.Calls[1].At - fcm.Calls[0].At, Is.GreaterThanOrEqualTo(TimeSpan.FromSeconds(2)));
        }
    }

    [Test]
    public async Task TreatsAChannelThatThrowsAsAPassingFailure()
    {
        var fcm = new ScriptedNotificationChannel(ChannelKind.Fcm, _time)
            .Throw(new HttpRequestException("connection reset"))
            .Answer(DeliveryResult.Accepted());
        var (_, _, dispatch) = await StartAsync(Dispatcher(30, 10_000, fcm), 30);

        var outcome = await AdvanceUntilDoneAsync(dispatch, () => fcm.Calls.Count == 1);

        var delivery = await RecordedDeliveryAsync();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(outcome, Is.EqualTo(NotificationOutcome.Delivered));
            Assert.That(delivery.Attempts, Is.EqualTo(2));
        }
    }

    [Test]
    public async Task RecordsARetryingDeliveryExpiredWhenTheInviteEnds()
    {
        var fcm = new ScriptedNotificationChannel(ChannelKind.Fcm, _time).AlwaysAnswer(DeliveryResult.Retry("fcm-503"));
        var (notification, binding, dispatch) = await StartAsync(Dispatcher(1, 10_000, fcm), inviteTtlSeconds: 1);

        var outcome = await AdvanceUntilDoneAsync(dispatch, () => true);

        var delivery = await RecordedDeliveryAsync();
        var attempts = fcm.Calls.Count;
        using (Assert.EnterMultipleScope())
        {
            Assert.That(_time.GetUtcNow(), Is.LessThan(Start.AddSeconds(10)), "the outcome came before the response deadline");
            Assert.That(outcome, Is.EqualTo(NotificationOutcome.Failed));
            Assert.That(delivery.Status, Is.EqualTo(DeliveryStatus.Expired));
            Assert.That(delivery.Attempts, Is.EqualTo(attempts));
            Assert.That(attempts, Is.GreaterThanOrEqualTo(2), "it was retried while the invite lived");
            Assert.That(fcm.Calls.Select(c => c.At), Is.All.LessThan(notification.ExpiresAt), "nothing is sent after the invite ended");
            Assert.That(_bindings[binding.Id]!.Status, Is.EqualTo(BindingStatus.Active), "a passing failure leaves the binding alone");
        }

        // Once expired, no more attempts, however much time passes.
        for (var i = 0; i < 20; i++)
        {
            _time.Advance(Step * 5);
            await Task.Delay(2);
        }

        Assert.That(fcm.Calls, Has.Count.EqualTo(attempts));
    }

    [Test]
    public async Task AnswersPendingWhenTheResponseDeadlinePassesFirst()
    {
        var fcm = new ScriptedNotificationChannel(ChannelKind.Fcm, _time)
            .AlwaysAnswer(DeliveryResult.Retry("fcm-503", TimeSpan.FromSeconds(20)));
        var (_, _, dispatch) = await StartAsync(Dispatcher(30, 500, fcm), 30);
        Assert.That(await fcm.WaitForCallsAsync(1, Bound), Is.True);

        var outcome = await AdvanceUntilDoneAsync(dispatch, () => true);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(outcome, Is.EqualTo(NotificationOutcome.Pending));
            Assert.That(_time.GetUtcNow() - Start, Is.GreaterThanOrEqualTo(TimeSpan.FromMilliseconds(500)));
            Assert.That(fcm.Calls, Has.Count.EqualTo(1), "the retry asked for 20 s from now has not happened yet");
        }
    }

    [Test]
    public async Task ThrowsWhenTheCallerCancels()
    {
        var fcm = new ScriptedNotificationChannel(ChannelKind.Fcm, _time)
            .AlwaysAnswer(DeliveryResult.Retry("fcm-503", TimeSpan.FromSeconds(20)));
        using var cts = new CancellationTokenSource();
        var (_, _, dispatch) = await StartAsync(Dispatcher(30, 10_000, fcm), 30, cts.Token);

        await cts.CancelAsync();

        Assert.That(async () => await dispatch.WaitAsync(Bound), Throws.InstanceOf<OperationCanceledException>());
    }

    [Test]
    public async Task StopsRetryingWhenTheWorkerStops()
    {
        var fcm = new ScriptedNotificationChannel(ChannelKind.Fcm, _time).AlwaysAnswer(DeliveryResult.Retry("fcm-503"));
        var dispatcher = Dispatcher(30, 500, fcm);
        var (_, _, dispatch) = await StartAsync(dispatcher, 30);
        Assert.That(await fcm.WaitForCallsAsync(1, Bound), Is.True);
        await AdvanceUntilDoneAsync(dispatch, () => true);

        _jobs!.Dispose();
        _jobs = null;
        var calls = fcm.Calls.Count;
        for (var i = 0; i < 20; i++)
        {
            _time.Advance(TimeSpan.FromSeconds(1));
            await Task.Delay(2);
        }

        using (Assert.EnterMultipleScope())
        {
            Assert.That(fcm.Calls, Has.Count.EqualTo(calls));
            Assert.That((await RecordedDeliveryAsync()).Status, Is.EqualTo(DeliveryStatus.Pending), "a stopped delivery stays pending on record");
        }
    }

    [Test]
    public async Task AnAcceptedDeliveryStampsTheBinding()
    {
        var fcm = new ScriptedNotificationChannel(ChannelKind.Fcm, _time).Answer(DeliveryResult.Accepted());
        var (_, binding, dispatch) = await StartAsync(Dispatcher(30, 10_000, fcm), 30);

        var outcome = await dispatch.WaitAsync(Bound);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(outcome, Is.EqualTo(NotificationOutcome.Delivered));
            Assert.That(await Eventually.TrueAsync(() => _bindings[binding.Id]!.LastDeliveryAt == Start), Is.True);
        }
    }

    [Test]
    public async Task AClientGoneDeactivatesTheBindingWithTheProvidersReason()
    {
        var fcm = new ScriptedNotificationChannel(ChannelKind.Fcm, _time).Answer(DeliveryResult.ClientGone(InactiveReasons.SenderIdMismatch));
        var (_, binding, dispatch) = await StartAsync(Dispatcher(30, 10_000, fcm), 30);

        var outcome = await dispatch.WaitAsync(Bound);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(outcome, Is.EqualTo(NotificationOutcome.NoActiveClients));
            Assert.That(await Eventually.TrueAsync(() => _bindings[binding.Id]!.Status == BindingStatus.Inactive), Is.True);
            Assert.That(_bindings[binding.Id]!.InactiveReason, Is.EqualTo(InactiveReasons.SenderIdMismatch));
            Assert.That(fcm.Calls, Has.Count.EqualTo(1));
        }
    }

    [Test]
    public async Task AnswersPendingAtOnceWhenTheQueueRefusesEveryDelivery()
    {
        var fcm = new ScriptedNotificationChannel(ChannelKind.Fcm, _time).AlwaysAnswer(DeliveryResult.Accepted());
        var dispatcher = Dispatcher(30, 10_000, fcm);
        _jobs!.Refuse = true;

        var (_, _, dispatch) = await StartAsync(dispatcher, 30);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(await dispatch.WaitAsync(Bound), Is.EqualTo(NotificationOutcome.Pending), "no deadline wait: nothing will decide it");
            Assert.That(fcm.Calls, Is.Empty);
            Assert.That((await RecordedDeliveryAsync()).Status, Is.EqualTo(DeliveryStatus.Pending), "it stays on record for a takeover");
        }
    }

    [Test]
    public void FirstBackoffIsBetween100And200Milliseconds()
    {
        var delays = Enumerable.Range(0, 1000).Select(_ => RetrySchedule.Backoff(1, null)).ToList();

        using (Assert.EnterMultipleScope())
        {
            Assert.That(delays, Is.All.InRange(TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(200)));
            Assert.That(delays.Distinct().Count(), Is.GreaterThan(1), "the backoff is jittered");
        }
    }

    [TestCase(2, 200, 400)]
    [TestCase(3, 400, 800)]
    [TestCase(5, 1600, 3200)]
    [TestCase(6, 2500, 5000)]
    [TestCase(30, 2500, 5000)]
    [TestCase(int.MaxValue, 2500, 5000)]
    public void BackoffDoublesUpToTheFiveSecondCap(int attempt, int minMilliseconds, int maxMilliseconds)
    {
        var delays = Enumerable.Range(0, 1000).Select(_ => RetrySchedule.Backoff(attempt, null));

        Assert.That(delays, Is.All.InRange(TimeSpan.FromMilliseconds(minMilliseconds), TimeSpan.FromMilliseconds(maxMilliseconds)));
    }

    [Test]
    public void BackoffNeverExceedsFiveSecondsWhenTheProviderAsksNothing()
    {
        var delays = Enumerable.Range(1, 100).SelectMany(attempt => Enumerable.Range(0, 50).Select(_ => RetrySchedule.Backoff(attempt, null)));

        Assert.That(delays, Is.All.LessThanOrEqualTo(TimeSpan.FromSeconds(5)));
    }

    [TestCase(1, 3000)]
    [TestCase(4, 1700)]
    [TestCase(10, 5001)]
    [TestCase(10, 30_000)]
    public void BackoffHonoursALargerRetryAfter(int attempt, int retryAfterMilliseconds)
    {
        var asked = TimeSpan.FromMilliseconds(retryAfterMilliseconds);

        Assert.That(RetrySchedule.Backoff(attempt, asked), Is.EqualTo(asked));
    }

    [Test]
    public void BackoffIgnoresASmallerRetryAfter()
    {
        var delays = Enumerable.Range(0, 200).Select(_ => RetrySchedule.Backoff(3, TimeSpan.FromMilliseconds(1)));

        Assert.That(delays, Is.All.InRange(TimeSpan.FromMilliseconds(400), TimeSpan.FromMilliseconds(800)));
    }
}
