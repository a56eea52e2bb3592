using System.Diagnostics;
using System.Text;
using CallNotify.Application.Calls.Dispatch;
using CallNotify.Application.Calls.ReceiveCallNotification;
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

namespace CallNotify.Application.Tests.Calls.ReceiveCallNotification;

public class ReceiveCallNotificationHandlerTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);
    private static readonly DateTimeOffset Start = new(2026, 11, 28, 12, 0, 0, TimeSpan.Zero);

    private InMemoryBindingRepository _bindings = null!;
    private InMemoryNotificationRepository _notifications = null!;
    private FakeLiveSessionRegistry _sessions = null!;
    private FakeWebhookSignatureVerifier _signatures = null!;
    private FakeTimeProvider _time = null!;
    private InlineDeliveryJobs? _jobs;

    [SetUp]
    public void SetUp()
    {
        _bindings = new InMemoryBindingRepository();
        _sessions = new FakeLiveSessionRegistry();
        _notifications = new InMemoryNotificationRepository(_bindings, _sessions);
        _signatures = new FakeWebhookSignatureVerifier { Verdict = SignatureVerdict.SignedByAccount(TestData.AccountSidValue) };
        _signatures.ConfiguredAccounts.Add(TestData.AccountSidValue);
        _signatures.ConfiguredAccounts.Add(TestData.OtherAccountSidValue);

        // Fake time stands still: the response deadline never passes unless a test says so, so every answer
        // below comes from a decided outcome, however slow the machine.
        _time = new FakeTimeProvider(Start);
    }

    [TearDown]
    public void TearDown()
    {
        _jobs?.Dispose();
        _jobs = null;
    }

    private ReceiveCallNotificationHandler Handler(params INotificationChannel[] channels) =>
        Handler(_time, new DispatchOptions { InviteTtlSeconds = 30, ResponseDeadlineMilliseconds = 3000 }, channels);

    private ReceiveCallNotificationHandler Handler(TimeProvider time, DispatchOptions dispatch, params INotificationChannel[] channels) =>
        Handler(time, dispatch, _notifications, channels);

    private ReceiveCallNotificationHandler Handler(
        TimeProvider time, DispatchOptions dispatch, INotificationStore notifications, params INotificationChannel[] channels)
    {
        var options = Options.Create(dispatch);
        _jobs = new InlineDeliveryJobs(new DeliveryRunner(channels, notifications, _bindings, time, NullLogger<DeliveryRunner>.Instance));
        var dispatcher = new NotificationDispatcher(_jobs, options, time, NullLogger<NotificationDispatcher>.Instance);
        return new ReceiveCallNotificationHandler(
            _signatures, notifications, dispatcher, options, Options.Create(new StoreBudgetOptions { WebhookBudgetMilliseconds = 4000 }), time);
    }

    private static Task<WebhookResult> PostAsync(ReceiveCallNotificationHandler handler, byte[] body) =>
        handler.Handle(new ReceiveCallNotificationCommand(TestData.WebhookUrl, "c2lnbmF0dXJl", body), CancellationToken.None)
            .AsTask()
            .WaitAsync(Bound);

    private async Task<Binding> AddBindingAsync(Binding binding)
    {
        await _bindings.AddAsync(binding, CancellationToken.None);
        return binding;
    }

    private async Task<CallNotification> RecordedAsync(string messageId = "WB0123456789abcdef0123456789abcdef") =>
        await _notifications.FindAsync(TestData.Account, messageId, CancellationToken.None)
        ?? throw new AssertionException($"Notification {messageId} was not recorded.");

    [Test]
    public async Task ForbiddenWhenTheSignatureIsInvalid()
    {
        await AddBindingAsync(TestData.FcmBinding("fcm-token-1", Start));
        var fcm = new ScriptedNotificationChannel(ChannelKind.Fcm).AlwaysAnswer(DeliveryResult.Accepted());
        _signatures.Verdict = SignatureVerdict.Invalid;

        var result = await PostAsync(Handler(fcm), TestData.WebhookBody());

        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.Verdict, Is.EqualTo(WebhookVerdict.Forbidden));
            Assert.That(_signatures.Checks, Is.EqualTo(1));
            Assert.That(_notifications.Count, Is.Zero);
            Assert.That(fcm.Calls, Is.Empty);
        }
    }

    [Test]
    public async Task ForbiddenWhenTheSignatureIsInvalidEvenForABadBody()
    {
        _signatures.Verdict = SignatureVerdict.Invalid;

        var result = await PostAsync(Handler(), Encoding.UTF8.GetBytes("not json"));

        Assert.That(result.Verdict, Is.EqualTo(WebhookVerdict.Forbidden));
    }

    [Test]
    public async Task ForbiddenWhenTheBodyNamesAnotherAccountThanTheSigner()
    {
        await AddBindingAsync(TestData.FcmBinding("fcm-token-1", Start));
        var fcm = new ScriptedNotificationChannel(ChannelKind.Fcm).AlwaysAnswer(DeliveryResult.Accepted());
        _signatures.Verdict = SignatureVerdict.SignedByAccount(TestData.OtherAccountSidValue);

        var result = await PostAsync(Handler(fcm), TestData.WebhookBody(accountSid: TestData.AccountSidValue));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.Verdict, Is.EqualTo(WebhookVerdict.Forbidden));
            Assert.That(_notifications.Count, Is.Zero);
            Assert.That(fcm.Calls, Is.Empty);
        }
    }

    [TestCase(true, TestName = "ForbiddenWhenTheSigningAccountIsNotConfigured")]
    [TestCase(false, TestName = "ForbiddenWhenTheAccountIsNotConfiguredAndSignaturesAreOff")]
    public async Task ForbiddenWhenTheAccountIsNotConfigured(bool signaturesChecked)
    {
        await AddBindingAsync(TestData.FcmBinding("fcm-token-1", Start));
        var fcm = new ScriptedNotificationChannel(ChannelKind.Fcm).AlwaysAnswer(DeliveryResult.Accepted());
        _signatures.ConfiguredAccounts.Remove(TestData.AccountSidValue);
        _signatures.Verdict = signaturesChecked ? SignatureVerdict.SignedByAccount(TestData.AccountSidValue) : SignatureVerdict.NotChecked;

        var result = await PostAsync(Handler(fcm), TestData.WebhookBody());

        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.Verdict, Is.EqualTo(WebhookVerdict.Forbidden));
            Assert.That(_notifications.Count, Is.Zero);
            Assert.That(fcm.Calls, Is.Empty);
        }
    }

    [Test]
    public async Task DeliversWhenSignaturesAreOffAndTheAccountIsConfigured()
    {
        _sessions.Connect(TestData.Account, TestData.Bob, Start);
        var websocket = new ScriptedNotificationChannel(ChannelKind.WebSocket).Answer(DeliveryResult.Accepted());
        _signatures.Verdict = SignatureVerdict.NotChecked;

        var result = await PostAsync(Handler(websocket), TestData.WebhookBody());

        Assert.That(result.Verdict, Is.EqualTo(WebhookVerdict.Delivered));
    }

    [Test]
    public async Task DeliversToSessionsOnEveryInstanceOfTheCallee()
    {
        var here = _sessions.Connect(TestData.Account, TestData.Bob, Start);
        var there = _sessions.Connect(TestData.Account, TestData.Bob, Start, instanceId: "INfedcba9876543210fedcba9876543210");
        var websocket = new ScriptedNotificationChannel(ChannelKind.WebSocket).Answer(DeliveryResult.Accepted(), DeliveryResult.Accepted());

        var result = await PostAsync(Handler(websocket), TestData.WebhookBody());
        var recorded = await RecordedAsync();

        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.Verdict, Is.EqualTo(WebhookVerdict.Delivered));
            Assert.That(recorded.Deliveries.Select(d => d.SessionId), Is.EquivalentTo(new[] { here.SessionId, there.SessionId }));
        }
    }

    [TestCase("not json", "body")]
    [TestCase("[1,2]", "body")]
    public async Task InvalidNamingBodyWhenTheBodyIsNotAnObject(string body, string field)
    {
        var result = await PostAsync(Handler(), Encoding.UTF8.GetBytes(body));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.Verdict, Is.EqualTo(WebhookVerdict.Invalid));
            Assert.That(result.Field, Is.EqualTo(field));
            Assert.That(result.Detail, Is.Not.Empty);
        }
    }

    [TestCase("twi_call_sid")]
    [TestCase("twi_to")]
    public async Task InvalidNamingTheMissingField(string field)
    {
        var fields = TestData.WebhookFields();
        fields.RemoveAll(f => f.Key == field);

        var result = await PostAsync(Handler(), TestData.Json(fields));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.Verdict, Is.EqualTo(WebhookVerdict.Invalid));
            Assert.That(result.Field, Is.EqualTo(field));
            Assert.That(_notifications.Count, Is.Zero);
        }
    }

    [Test]
    public async Task InvalidWhenTwiToIsNotAClient()
    {
        var result = await PostAsync(Handler(), TestData.WebhookBody(to: "+15551234567"));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.Verdict, Is.EqualTo(WebhookVerdict.Invalid));
            Assert.That(result.Field, Is.EqualTo("twi_to"));
        }
    }

    [Test]
    public async Task NoActiveClientsAndNothingRecordedWhenTheCalleeHasNoBindingOrSession()
    {
        // Clients that do not count: another identity, another account, an inactive and an expired binding of bob.
        await AddBindingAsync(TestData.FcmBinding("alice-token", Start, ClientIdentity.Parse("alice")));
        await AddBindingAsync(Binding.Register(
            TestData.OtherAccount, TestData.Bob, ChannelKind.Fcm, PushAddress.Parse(ChannelKind.Fcm, "other-account-token"),
            ApnsEnvironment.Production, null, Start, TimeSpan.FromDays(1)));
        var inactive = TestData.FcmBinding("inactive-token", Start);
        inactive.Deactivate(InactiveReasons.Unregistered, Start);
        await AddBindingAsync(inactive);
        await AddBindingAsync(Binding.Register(
            TestData.Account, TestData.Bob, ChannelKind.Fcm, PushAddress.Parse(ChannelKind.Fcm, "expired-token"),
            ApnsEnvironment.Production, null, Start.AddDays(-2), TimeSpan.FromDays(1)));
        _sessions.Connect(TestData.OtherAccount, TestData.Bob, Start);
        _sessions.Connect(TestData.Account, ClientIdentity.Parse("alice"), Start);
        var fcm = new ScriptedNotificationChannel(ChannelKind.Fcm).AlwaysAnswer(DeliveryResult.Accepted());
        var websocket = new ScriptedNotificationChannel(ChannelKind.WebSocket).AlwaysAnswer(DeliveryResult.Accepted());

        var result = await PostAsync(Handler(fcm, websocket), TestData.WebhookBody());

        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.Verdict, Is.EqualTo(WebhookVerdict.NoActiveClients));
            Assert.That(_notifications.Count, Is.Zero);
            Assert.That(fcm.Calls, Is.Empty);
            Assert.That(websocket.Calls, Is.Empty);
        }
    }

    [Test]
    public async Task DeliveredToALiveSessionWithTheBodyByteForByte()
    {
        var session = _sessions.Connect(TestData.Account, TestData.Bob, Start.AddMinutes(-1));
        var websocket = new ScriptedNotificationChannel(ChannelKind.WebSocket).Answer(DeliveryResult.Accepted());

        // Odd spacing, key order, escapes, non-ASCII and extra fields: a re-serialised body would differ.
        var body = Encoding.UTF8.GetBytes(
            "{ \"twi_to\" :\"client:bob\",\n\t\"twi_message_type\":\"twilio.voice.call\",\"twi_params\":\"k=v&name=Jos\\u00e9 Mar\u00eda\","
            + "\"twi_call_sid\":\"CA0123456789abcdef0123456789abcdef\" , \"twi_message_id\":\"WB0123456789abcdef0123456789abcdef\","
            + "\"custom\":{\"n\":1.50,\"list\":[true,null]},\"twi_from\":\"client:alice\",\"twi_account_sid\":\""
            + TestData.AccountSidValue + "\"}\r\n");

        var result = await PostAsync(Handler(websocket), body);

        Assert.That(result, Is.EqualTo(new WebhookResult(WebhookVerdict.Delivered)));
        var sent = websocket.Calls.Single();
        var recorded = await RecordedAsync();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(sent.Payload, Is.EqualTo(body));
            Assert.That(sent.Message.Channel, Is.EqualTo(ChannelKind.WebSocket));
            Assert.That(sent.Message.Address, Is.EqualTo(session.SessionId));
            Assert.That(sent.Message.TwiMessageId, Is.EqualTo("WB0123456789abcdef0123456789abcdef"));
            Assert.That(sent.Message.InviteExpiresAt, Is.EqualTo(Start.AddSeconds(30)));
            Assert.That(recorded.RawBody, Is.EqualTo(body));
            Assert.That(recorded.Outcome, Is.EqualTo(NotificationOutcome.Delivered));
            Assert.That(recorded.Deliveries.Single().SessionId, Is.EqualTo(session.SessionId));
            Assert.That(recorded.Deliveries.Single().Status, Is.EqualTo(DeliveryStatus.Accepted));
        }
    }

    [Test]
    public async Task SendsEachBindingItsOwnAddressAndApnsSettings()
    {
        var voip = await AddBindingAsync(TestData.ApnsBinding(ChannelKind.ApnsVoip, "ABCDEF0123456789", Start));
        var apnsVoip = new ScriptedNotificationChannel(ChannelKind.ApnsVoip).Answer(DeliveryResult.Accepted());

        var result = await PostAsync(Handler(apnsVoip), TestData.WebhookBody());

        Assert.That(result.Verdict, Is.EqualTo(WebhookVerdict.Delivered));
        var sent = apnsVoip.Calls.Single().Message;
        using (Assert.EnterMultipleScope())
        {
            Assert.That(sent.Address, Is.EqualTo("abcdef0123456789"));
            Assert.That(sent.Registration.Environment, Is.EqualTo(ApnsEnvironment.Sandbox));
            Assert.That(sent.Registration.AppId, Is.EqualTo("com.example.voice"));
            Assert.That((await RecordedAsync()).Deliveries.Single().BindingId, Is.EqualTo(voip.Id));
        }
    }

    [Test]
    public async Task DeliveredAsSoonAsOneClientAcceptsWhileAnotherIsStillRetrying()
    {
        await AddBindingAsync(TestData.FcmBinding("fcm-token-1", Start));
        _sessions.Connect(TestData.Account, TestData.Bob, Start);
        var fcm = new ScriptedNotificationChannel(ChannelKind.Fcm).AlwaysAnswer(DeliveryResult.Retry("fcm-503", TimeSpan.FromSeconds(10)));
        var websocket = new ScriptedNotificationChannel(ChannelKind.WebSocket).Answer(DeliveryResult.Accepted());

        var result = await PostAsync(Handler(fcm, websocket), TestData.WebhookBody());

        Assert.That(result.Verdict, Is.EqualTo(WebhookVerdict.Delivered));
    }

    [Test]
    public async Task UnavailableWithChannelNotConfiguredWhenNoChannelServesTheBinding()
    {
        var binding = await AddBindingAsync(TestData.ApnsBinding(ChannelKind.ApnsVoip, "abcdef0123456789", Start));
        var fcm = new ScriptedNotificationChannel(ChannelKind.Fcm).AlwaysAnswer(DeliveryResult.Accepted());

        var result = await PostAsync(Handler(fcm), TestData.WebhookBody());

        var delivery = (await RecordedAsync()).Deliveries.Single();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.Verdict, Is.EqualTo(WebhookVerdict.Unavailable));
            Assert.That(delivery.Status, Is.EqualTo(DeliveryStatus.Failed));
            Assert.That(delivery.LastError, Is.EqualTo(DeliveryErrors.ChannelNotConfigured));
            Assert.That(delivery.ClientGone, Is.False);
            Assert.That(fcm.Calls, Is.Empty);
            Assert.That(_bindings[binding.Id]!.Status, Is.EqualTo(BindingStatus.Active), "the binding stays active");
        }
    }

    [Test]
    public async Task NoActiveClientsWhenEveryClientIsGoneAndTheirBindingsAreDeactivated()
    {
        var android = await AddBindingAsync(TestData.FcmBinding("fcm-token-1", Start));
        var iphone = await AddBindingAsync(TestData.ApnsBinding(ChannelKind.ApnsVoip, "abcdef0123456789", Start));
        var fcm = new ScriptedNotificationChannel(ChannelKind.Fcm).Answer(DeliveryResult.ClientGone(InactiveReasons.Unregistered));
        var apnsVoip = new ScriptedNotificationChannel(ChannelKind.ApnsVoip).Answer(DeliveryResult.ClientGone(InactiveReasons.BadDeviceToken));

        var result = await PostAsync(Handler(fcm, apnsVoip), TestData.WebhookBody());

        Assert.That(result.Verdict, Is.EqualTo(WebhookVerdict.NoActiveClients));

        // Bindings are deactivated right after the result is recorded, possibly just after the answer.
        var deactivated = await Eventually.TrueAsync(
            () => _bindings[android.Id]!.Status == BindingStatus.Inactive && _bindings[iphone.Id]!.Status == BindingStatus.Inactive);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(deactivated, Is.True, "both bindings are deactivated");
            Assert.That(_bindings[android.Id]!.InactiveReason, Is.EqualTo(InactiveReasons.Unregistered));
            Assert.That(_bindings[iphone.Id]!.InactiveReason, Is.EqualTo(InactiveReasons.BadDeviceToken));
            Assert.That((await RecordedAsync()).Outcome, Is.EqualTo(NotificationOutcome.NoActiveClients));
        }
    }

    [Test]
    public async Task UnavailableWhenOneClientIsGoneAndAnotherFailed()
    {
        var android = await AddBindingAsync(TestData.FcmBinding("fcm-token-1", Start));
        await AddBindingAsync(TestData.ApnsBinding(ChannelKind.ApnsVoip, "abcdef0123456789", Start));
        var fcm = new ScriptedNotificationChannel(ChannelKind.Fcm).Answer(DeliveryResult.ClientGone(InactiveReasons.Unregistered));
        var apnsVoip = new ScriptedNotificationChannel(ChannelKind.ApnsVoip).Answer(DeliveryResult.Failed(DeliveryErrors.PayloadTooLarge));

        var result = await PostAsync(Handler(fcm, apnsVoip), TestData.WebhookBody());

        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.Verdict, Is.EqualTo(WebhookVerdict.Unavailable));
            Assert.That(await Eventually.TrueAsync(() => _bindings[android.Id]!.Status == BindingStatus.Inactive), Is.True);
        }
    }

    [Test]
    public async Task RepeatedMessageIdGetsTheFirstAnswerWithoutSendingAgain()
    {
        await AddBindingAsync(TestData.FcmBinding("fcm-token-1", Start));
        var fcm = new ScriptedNotificationChannel(ChannelKind.Fcm).AlwaysAnswer(DeliveryResult.Accepted());
        var handler = Handler(fcm);

        var first = await PostAsync(handler, TestData.WebhookBody());
        var second = await PostAsync(handler, TestData.WebhookBody());

        using (Assert.EnterMultipleScope())
        {
            Assert.That(first.Verdict, Is.EqualTo(WebhookVerdict.Delivered));
            Assert.That(second, Is.EqualTo(first));
            Assert.That(fcm.Calls, Has.Count.EqualTo(1));
            Assert.That(_notifications.Count, Is.EqualTo(1));
        }
    }

    [Test]
    public async Task RepeatedMessageIdOfAFailedNotificationIsNotRetried()
    {
        await AddBindingAsync(TestData.FcmBinding("fcm-token-1", Start));
        var fcm = new ScriptedNotificationChannel(ChannelKind.Fcm)
            .Answer(DeliveryResult.Failed(DeliveryErrors.PayloadTooLarge))
            .AlwaysAnswer(DeliveryResult.Accepted());
        var handler = Handler(fcm);

        var first = await PostAsync(handler, TestData.WebhookBody());
        var second = await PostAsync(handler, TestData.WebhookBody());

        using (Assert.EnterMultipleScope())
        {
            Assert.That(first.Verdict, Is.EqualTo(WebhookVerdict.Unavailable));
            Assert.That(second, Is.EqualTo(first));
            Assert.That(fcm.Calls, Has.Count.EqualTo(1));
        }
    }

    [Test]
    public async Task SameMessageIdInAnotherAccountIsAnotherNotification()
    {
        await AddBindingAsync(TestData.FcmBinding("fcm-token-1", Start));
        await AddBindingAsync(Binding.Register(
            TestData.OtherAccount, TestData.Bob, ChannelKind.Fcm, PushAddress.Parse(ChannelKind.Fcm, "other-account-token"),
            ApnsEnvironment.Production, null, Start, TimeSpan.FromDays(1)));
        var fcm = new ScriptedNotificationChannel(ChannelKind.Fcm).AlwaysAnswer(DeliveryResult.Accepted());
        var handler = Handler(fcm);
        _signatures.Verdict = SignatureVerdict.NotChecked;

        await PostAsync(handler, TestData.WebhookBody(accountSid: TestData.AccountSidValue));
        var other = await PostAsync(handler, TestData.WebhookBody(accountSid: TestData.OtherAccountSidValue));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(other.Verdict, Is.EqualTo(WebhookVerdict.Delivered));
            Assert.That(fcm.Calls.Select(c => c.Message.Address), Is.EquivalentTo(new[] { "fcm-token-1", "other-account-token" }));
            Assert.That(_notifications.Count, Is.EqualTo(2));
        }
    }

    [Test]
    public async Task RepeatedMessageIdAnswersFromTheRecordAfterTheCalleeLostItsClients()
    {
        var session = _sessions.Connect(TestData.Account, TestData.Bob, Start);
        var websocket = new ScriptedNotificationChannel(ChannelKind.WebSocket).Answer(DeliveryResult.Accepted());
        var handler = Handler(websocket);
        var first = await PostAsync(handler, TestData.WebhookBody());
        _sessions.Disconnect(session.SessionId);

        var second = await PostAsync(handler, TestData.WebhookBody());

        using (Assert.EnterMultipleScope())
        {
            Assert.That(first.Verdict, Is.EqualTo(WebhookVerdict.Delivered));
            Assert.That(second, Is.EqualTo(first));
        }
    }

    [Test]
    public async Task UnavailableWhenNothingIsAcceptedByTheDeadline()
    {
        var now = TimeProvider.System.GetUtcNow();
        await AddBindingAsync(TestData.FcmBinding("fcm-token-1", now));
        var fcm = new ScriptedNotificationChannel(ChannelKind.Fcm).AlwaysAnswer(DeliveryResult.Retry("fcm-503"));
        var handler = Handler(TimeProvider.System, new DispatchOptions { InviteTtlSeconds = 30, ResponseDeadlineMilliseconds = 300 }, fcm);
        var clock = Stopwatch.StartNew();

        var result = await PostAsync(handler, TestData.WebhookBody());

        clock.Stop();
        var recorded = await RecordedAsync();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.Verdict, Is.EqualTo(WebhookVerdict.Unavailable));
            Assert.That(clock.Elapsed, Is.GreaterThanOrEqualTo(TimeSpan.FromMilliseconds(250)), "the answer waits for the deadline");
            Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(2)), "and no longer");
            Assert.That(fcm.Calls, Is.Not.Empty);
            Assert.That(recorded.Outcome, Is.EqualTo(NotificationOutcome.Pending), "the delivery is still being retried");
            Assert.That(recorded.Deliveries.Single().Status, Is.EqualTo(DeliveryStatus.Pending));
            Assert.That(recorded.Deliveries.Single().LastError, Is.EqualTo("fcm-503"));
        }
    }

    [Test]
    public async Task UnavailableAtTheStoreBudgetWhenTheLookupNeverAnswers()
    {
        var hung = new HungCalleeLookup(_notifications);
        var handler = Handler(_time, new DispatchOptions { InviteTtlSeconds = 30, ResponseDeadlineMilliseconds = 3000 }, hung);

        var answer = handler.Handle(new ReceiveCallNotificationCommand(TestData.WebhookUrl, "c2lnbmF0dXJl", TestData.WebhookBody()), CancellationToken.None).AsTask();
        await Eventually.TrueAsync(() => hung.Asked > 0, Bound);
        var beforeBudget = answer.IsCompleted;
        _time.Advance(TimeSpan.FromSeconds(4));
        var result = await answer.WaitAsync(Bound);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(beforeBudget, Is.False, "the webhook waits for the store until the budget ends");
            Assert.That(result.Verdict, Is.EqualTo(WebhookVerdict.Unavailable));
            Assert.That(_notifications.Count, Is.Zero);
        }
    }

    [Test]
    public async Task ARecordThatCommitsAfterTheBudgetStillHasItsDeliveriesStarted()
    {
        await AddBindingAsync(TestData.FcmBinding("fcm-token-1", Start));
        var fcm = new ScriptedNotificationChannel(ChannelKind.Fcm).AlwaysAnswer(DeliveryResult.Accepted());
        var slow = new SlowRecording(_notifications);
        var handler = Handler(_time, new DispatchOptions { InviteTtlSeconds = 30, ResponseDeadlineMilliseconds = 3000 }, slow, fcm);

        var answer = handler.Handle(new ReceiveCallNotificationCommand(TestData.WebhookUrl, "c2lnbmF0dXJl", TestData.WebhookBody()), CancellationToken.None).AsTask();
        await Eventually.TrueAsync(() => slow.Waiting, Bound);
        _time.Advance(TimeSpan.FromSeconds(4));
        var result = await answer.WaitAsync(Bound);
        var sentBeforeCommit = fcm.Calls.Count;
        slow.Commit();

        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.Verdict, Is.EqualTo(WebhookVerdict.Unavailable));
            Assert.That(sentBeforeCommit, Is.Zero, "nothing is sent before the record exists");
            Assert.That(await fcm.WaitForCallsAsync(1, Bound), Is.True, "the delivery starts once the record commits");
            Assert.That(
                (await Eventually.Until(() => RecordedAsync(), n => n.Outcome == NotificationOutcome.Delivered)).Outcome,
                Is.EqualTo(NotificationOutcome.Delivered));
        }
    }

    /// <summary>A lookup that never answers (a database frozen mid-query) and ignores cancellation.</summary>
    private sealed class HungCalleeLookup(InMemoryNotificationRepository inner) : PassingStore(inner)
    {
        private int _asked;

        public int Asked => Volatile.Read(ref _asked);

        public override Task<CalleeClients> FindCalleesAsync(AccountSid accountSid, ClientIdentity identity, DateTimeOffset now, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _asked);
            return new TaskCompletionSource<CalleeClients>().Task;
        }
    }

    /// <summary>A store whose inserts commit only when the test says so, whatever the caller's cancellation.</summary>
    private sealed class SlowRecording(InMemoryNotificationRepository inner) : PassingStore(inner)
    {
        private readonly TaskCompletionSource _commit = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public bool Waiting { get; private set; }

        public void Commit() => _commit.TrySetResult();

        public override async Task<bool> TryAddAsync(CallNotification notification, CancellationToken cancellationToken)
        {
            Waiting = true;
            await _commit.Task;
            return await Inner.TryAddAsync(notification, CancellationToken.None);
        }
    }

    /// <summary>The in-memory store, each method of which a test double may replace.</summary>
    private abstract class PassingStore(InMemoryNotificationRepository inner) : INotificationStore
    {
        protected InMemoryNotificationRepository Inner { get; } = inner;

        public virtual Task<CalleeClients> FindCalleesAsync(AccountSid accountSid, ClientIdentity identity, DateTimeOffset now, CancellationToken cancellationToken) =>
            Inner.FindCalleesAsync(accountSid, identity, now, cancellationToken);

        public virtual Task<bool> TryAddAsync(CallNotification notification, CancellationToken cancellationToken) =>
            Inner.TryAddAsync(notification, cancellationToken);

        public Task<CallNotification?> FindAsync(AccountSid accountSid, string twiMessageId, CancellationToken cancellationToken) =>
            Inner.FindAsync(accountSid, twiMessageId, cancellationToken);

        public Task<bool> TryRememberAsync(AccountSid accountSid, string twiMessageId, NotificationOutcome outcome, DateTimeOffset at, CancellationToken cancellationToken) =>
            Inner.TryRememberAsync(accountSid, twiMessageId, outcome, at, cancellationToken);

        public Task<NotificationOutcome?> FindRememberedAsync(AccountSid accountSid, string twiMessageId, CancellationToken cancellationToken) =>
            Inner.FindRememberedAsync(accountSid, twiMessageId, cancellationToken);

        public Task<CallNotification?> UpdateAsync(string id, Func<CallNotification, bool> change, CancellationToken cancellationToken) =>
            Inner.UpdateAsync(id, change, cancellationToken);

        public Task<IReadOnlyList<StalledDelivery>> FindStalledAsync(DateTimeOffset dueAfter, DateTimeOffset dueBy, int limit, CancellationToken cancellationToken) =>
            Inner.FindStalledAsync(dueAfter, dueBy, limit, cancellationToken);

        public Task RecordBindingDeliveryAsync(string bindingId, DateTimeOffset at, CancellationToken cancellationToken) =>
            Inner.RecordBindingDeliveryAsync(bindingId, at, cancellationToken);
    }
}
