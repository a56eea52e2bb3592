using System.Net;
using System.Text;
using System.Text.Json;
using CallNotify.Application.Common.Ports;
using CallNotify.Domain.Common;
using CallNotify.Domain.Notifications;
using CallNotify.Infrastructure.Channels;
using CallNotify.Infrastructure.Channels.Fcm;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace CallNotify.Infrastructure.Tests.Channels.Fcm;

/// <summary>The FCM channel as registered by <c>AddFcmChannel</c>, against a fake FCM over real HTTP on loopback.</summary>
public sealed class FcmChannelTests
{
    private const string RegistrationToken = "dQw4w9WgXcQ:APA91bHun4MxP5egoKMwt2KZFBaFUH-1RYqx_sTOKENTAIL42";

    /// <summary>Twilio's keys, escapes of every kind, and values that are not strings.</summary>
    private const string WebhookBody = """
        {"twi_account_sid":"AC00000000000000000000000000000001","twi_bridge_token":"eyJhbGciOiJIUzI1NiJ9.e30.bridge",
         "twi_call_sid":"CA11111111111111111111111111111111","twi_from":"client:al\u00e9 \"the\" \\boss\\ \/ \ud83d\ude00",
         "twi_to":"client:bob","twi_message_id":"WB22222222222222222222222222222222","twi_message_type":"twilio.voice.call",
         "twi_params":"a%3D1%26b%3D%C3%A9","twi_answer_timeout":30,"twi_extra":{"nested":[1, 2.5e3, true, null, "x\"y"]},
         "twi_flag":false,"twi_nothing":null,"caf\u00e9":"plain ünïcode ☎ <&>"}
        """;

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 28, 12, 0, 0, TimeSpan.Zero));
    private ServiceAccount _account = null!;
    private FakeFcmServer _fcm = null!;
    private string _directory = null!;
    private ListLoggerProvider _logs = null!;
    private ServiceProvider? _services;

    [OneTimeSetUp]
    public void CreateServiceAccount() => _account = new ServiceAccount();

    [OneTimeTearDown]
    public void DisposeServiceAccount() => _account.Dispose();

    [SetUp]
    public async Task StartFakeFcm()
    {
        _directory = Directory.CreateTempSubdirectory("callnotify-fcm-").FullName;
        _logs = new ListLoggerProvider();
        _fcm = await FakeFcmServer.StartAsync(_account);
    }

    [TearDown]
    public async Task StopFakeFcm()
    {
        if (TestContext.CurrentContext.Result.Outcome.Status == NUnit.Framework.Interfaces.TestStatus.Failed)
        {
            foreach (var entry in _logs.Entries)
            {
                await TestContext.Out.WriteLineAsync($"{entry.Level} {entry.Category}: {entry.Message} {entry.Exception}");
            }

            await TestContext.Out.WriteLineAsync($"Token refusals: {string.Join("; ", _fcm.TokenRefusals)}");
        }

        if (_services is not null)
        {
            await _services.DisposeAsync();
            _services = null;
        }

        await _fcm.DisposeAsync();
        _logs.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    [Test]
    public async Task SendsEveryTopLevelFieldAsDataWithStringValuesUnchanged()
    {
        var result = await SendAsync(Channel(), Message(WebhookBody));

        Assert.That(result, Is.EqualTo(DeliveryResult.Accepted()));
        using var sent = _fcm.Sends.Single().Json();
        var data = sent.RootElement.GetProperty("message").GetProperty("data");
        using var original = JsonDocument.Parse(WebhookBody);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(data.EnumerateObject().Select(p => p.Name), Is.EqualTo(original.RootElement.EnumerateObject().Select(p => p.Name)));
            Assert.That(data.EnumerateObject().Select(p => p.Value.ValueKind), Is.All.EqualTo(JsonValueKind.String));
            foreach (var field in original.RootElement.EnumerateObject())
            {
                var expected = field.Value.ValueKind == JsonValueKind.String ? field.Value.GetString() : field.Value.GetRawText();
                Assert.That(data.GetProperty(field.Name).GetString(), Is.EqualTo(expected), field.Name);
            }

            // The same, spelled out independently of any JSON reader.
            Assert.That(data.GetProperty("twi_from").GetString(), Is.EqualTo("client:al\u00e9 \"the\" \\boss\\ / \U0001F600"));
            Assert.That(data.GetProperty("café").GetString(), Is.EqualTo("plain ünïcode ☎ <&>"));
            Assert.That(data.GetProperty("twi_answer_timeout").GetString(), Is.EqualTo("30"));
            Assert.That(data.GetProperty("twi_extra").GetString(), Is.EqualTo("{\"nested\":[1, 2.5e3, true, null, \"x\\\"y\"]}"));
            Assert.That(data.GetProperty("twi_flag").GetString(), Is.EqualTo("false"));
            Assert.That(data.GetProperty("twi_nothing").GetString(), Is.EqualTo("null"));
        }
    }

    [TestCase(30_000, "30s")]
    [TestCase(29_600, "29s")]
    [TestCase(400, "1s")]
    public async Task SendsAHighPriorityMessageToTheTokenLivingAsLongAsTheInvite(int inviteLeftMs, string ttl)
    {
        var result = await SendAsync(Channel(), Message(WebhookBody, TimeSpan.FromMilliseconds(inviteLeftMs)));

        Assert.That(result, Is.EqualTo(DeliveryResult.Accepted()));
        var send = _fcm.Sends.Single();
        using var sent = send.Json();
        var message = sent.RootElement.GetProperty("message");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(send.Project, Is.EqualTo(ServiceAccount.ProjectId));
            Assert.That(send.Authorization, Does.StartWith("Bearer ya29.fake-access-token-1-"));
            Assert.That(send.ContentType, Does.StartWith("application/json"));
            Assert.That(sent.RootElement.EnumerateObject().Select(p => p.Name), Is.EqualTo(new[] { "message" }));
            Assert.That(message.GetProperty("token").GetString(), Is.EqualTo(RegistrationToken));
            Assert.That(message.GetProperty("android").GetProperty("priority").GetString(), Is.EqualTo("HIGH"));
            Assert.That(message.GetProperty("android").GetProperty("ttl").GetString(), Is.EqualTo(ttl));
            Assert.That(message.TryGetProperty("notification", out _), Is.False, "a data-only message");
            Assert.That(_fcm.TokenRefusals, Is.Empty);
        }
    }

    [Test]
    public async Task AnInviteThatHasEndedIsNotSent()
    {
        var channel = Channel();

        var result = await SendAsync(channel, Message(WebhookBody, TimeSpan.Zero));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(result, Is.EqualTo(DeliveryResult.Failed(DeliveryErrors.InviteExpired)));
            Assert.That(_fcm.Sends, Is.Empty);
        }
    }

    [Test]
    public async Task OneTokenExchangeServesManySends()
    {
        var channel = Channel();

        var results = new List<DeliveryResult>();
        for (var i = 0; i < 5; i++)
        {
            results.Add(await SendAsync(channel, Message(WebhookBody)));
        }

        using (Assert.EnterMultipleScope())
        {
            Assert.That(results, Is.All.EqualTo(DeliveryResult.Accepted()));
            Assert.That(_fcm.TokenExchanges, Is.EqualTo(1));
            Assert.That(_fcm.Sends.Select(s => s.Authorization).Distinct().Count(), Is.EqualTo(1));
            Assert.That(_fcm.Sends, Has.Count.EqualTo(5));
            Assert.That(_fcm.TokenRefusals, Is.Empty);
        }
    }

    [Test]
    public async Task ConcurrentSendsShareOneTokenExchange()
    {
        var channel = Channel();

        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => SendAsync(channel, Message(WebhookBody))));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(results, Is.All.EqualTo(DeliveryResult.Accepted()));
            Assert.That(_fcm.TokenExchanges, Is.EqualTo(1));
        }
    }

    [Test]
    public async Task ANewTokenIsFetchedOnceTheOldOneHasExpired()
    {
        var channel = Channel();
        await SendAsync(channel, Message(WebhookBody));

        _time.Advance(TimeSpan.FromHours(1));
        var result = await SendAsync(channel, Message(WebhookBody));

        var authorizations = _fcm.Sends.Select(s => s.Authorization).ToList();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(result, Is.EqualTo(DeliveryResult.Accepted()));
            Assert.That(_fcm.TokenExchanges, Is.EqualTo(2));
            Assert.That(authorizations[1], Is.Not.EqualTo(authorizations[0]));
        }
    }

    [TestCase(4096, DeliveryResultKind.Accepted)]
    [TestCase(4097, DeliveryResultKind.Failed)]
    public async Task DataOverFcmsLimitIsNotSent(int dataBytes, DeliveryResultKind expected)
    {
        // Key "k" (1 byte) and a value of "é" (2 bytes each, written escaped as \u00e9: six bytes in the body, two in
        // FCM's count) and ASCII to make up the rest.
        var accents = (dataBytes - 1) / 2;
        var value = string.Concat(Enumerable.Repeat("\\u00e9", accents)) + new string('a', dataBytes - 1 - (accents * 2));
        var body = $$"""{"k":"{{value}}"}""";

        var result = await SendAsync(Channel(), Message(body));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.Kind, Is.EqualTo(expected));
            if (expected == DeliveryResultKind.Failed)
            {
                Assert.That(result.Reason, Is.EqualTo(DeliveryErrors.PayloadTooLarge));
                Assert.That(_fcm.Sends, Is.Empty);
                Assert.That(_fcm.TokenExchanges, Is.Zero, "nothing at all goes out");
            }
            else
            {
                Assert.That(_fcm.Sends, Has.Count.EqualTo(1));
            }
        }
    }

    [Test]
    public async Task DataLimitCountsKeysAndNonStringValuesToo()
    {
        // 4000 bytes of string, then a key of 90 and a number of 7: 4097 in all.
        var body = $$"""{"a":"{{new string('x', 3999)}}","{{new string('b', 90)}}":1234567}""";

        var result = await SendAsync(Channel(), Message(body));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(result, Is.EqualTo(DeliveryResult.Failed(DeliveryErrors.PayloadTooLarge)));
            Assert.That(_fcm.Sends, Is.Empty);
        }
    }

    private static IEnumerable<TestCaseData> ProviderAnswers()
    {
        yield return new TestCaseData(HttpStatusCode.NotFound, FakeFcmServer.Error(404, "NOT_FOUND", "Requested entity was not found.", "UNREGISTERED"))
            .Returns(DeliveryResult.ClientGone("unregistered")).SetName("{m}(UNREGISTERED)");
        yield return new TestCaseData(HttpStatusCode.Forbidden, FakeFcmServer.Error(403, "PERMISSION_DENIED", "SenderId mismatch", "SENDER_ID_MISMATCH"))
            .Returns(DeliveryResult.ClientGone("sender-id-mismatch")).SetName("{m}(SENDER_ID_MISMATCH)");
        yield return new TestCaseData(HttpStatusCode.BadRequest, FakeFcmServer.Error(400, "INVALID_ARGUMENT", "The registration token is not a valid FCM registration token", "INVALID_ARGUMENT"))
            .Returns(DeliveryResult.ClientGone("invalid-token")).SetName("{m}(INVALID_ARGUMENT naming the registration token)");
        yield return new TestCaseData(HttpStatusCode.BadRequest, FakeFcmServer.Error(400, "INVALID_ARGUMENT", "Request contains an invalid argument.", "INVALID_ARGUMENT", "message.token"))
            .Returns(DeliveryResult.ClientGone("invalid-token")).SetName("{m}(INVALID_ARGUMENT with a field violation on message.token)");
        yield return new TestCaseData(HttpStatusCode.BadRequest, FakeFcmServer.Error(400, "INVALID_ARGUMENT", "Invalid data payload key: from", "INVALID_ARGUMENT", "message.data"))
            .Returns(DeliveryResult.Failed("invalid-argument")).SetName("{m}(INVALID_ARGUMENT about the data)");
        yield return new TestCaseData(HttpStatusCode.InternalServerError, FakeFcmServer.Error(500, "INTERNAL", "Internal error encountered.", "INTERNAL"))
            .Returns(DeliveryResult.Retry("internal")).SetName("{m}(INTERNAL)");
        yield return new TestCaseData(HttpStatusCode.ServiceUnavailable, FakeFcmServer.Error(503, "UNAVAILABLE", "The service is currently unavailable.", "UNAVAILABLE"))
            .Returns(DeliveryResult.Retry("unavailable")).SetName("{m}(UNAVAILABLE)");
        yield return new TestCaseData(HttpStatusCode.BadGateway, "<html>Bad Gateway</html>")
            .Returns(DeliveryResult.Retry("server-error")).SetName("{m}(502 from a proxy)");
        yield return new TestCaseData(HttpStatusCode.TooManyRequests, FakeFcmServer.Error(429, "RESOURCE_EXHAUSTED", "Quota exceeded.", "QUOTA_EXCEEDED"))
            .Returns(DeliveryResult.Failed("quota-exceeded")).SetName("{m}(QUOTA_EXCEEDED)");
        yield return new TestCaseData(HttpStatusCode.Unauthorized, FakeFcmServer.Error(401, "UNAUTHENTICATED", "Auth error from APNS or Web Push Service", "THIRD_PARTY_AUTH_ERROR"))
            .Returns(DeliveryResult.Failed("credential-error")).SetName("{m}(THIRD_PARTY_AUTH_ERROR)");
        yield return new TestCaseData(HttpStatusCode.Unauthorized, FakeFcmServer.Error(401, "UNAUTHENTICATED", "Request had invalid authentication credentials."))
            .Returns(DeliveryResult.Failed("credential-error")).SetName("{m}(401 UNAUTHENTICATED)");
        yield return new TestCaseData(HttpStatusCode.Forbidden, FakeFcmServer.Error(403, "PERMISSION_DENIED", "Permission 'cloudmessaging.messages.create' denied."))
            .Returns(DeliveryResult.Failed("credential-error")).SetName("{m}(403 PERMISSION_DENIED)");
        yield return new TestCaseData(HttpStatusCode.NotFound, FakeFcmServer.Error(404, "NOT_FOUND", "Requested entity was not found."))
            .Returns(DeliveryResult.Failed("unexpected-response")).SetName("{m}(404 without UNREGISTERED, e.g. a wrong project)");
    }

    [TestCaseSource(nameof(ProviderAnswers))]
    public async Task<DeliveryResult> MapsFcmsAnswer(HttpStatusCode status, string body)
    {
        _fcm.Script.Enqueue(new ScriptedAnswer(status, body));

        var result = await SendAsync(Channel(), Message(WebhookBody));

        Assert.That(_fcm.Sends, Has.Count.EqualTo(1), "one attempt, never a retry of its own");
        return result;
    }

    [Test]
    public async Task RetryAfterInSecondsIsPassedOn()
    {
        _fcm.Script.Enqueue(new ScriptedAnswer(HttpStatusCode.ServiceUnavailable, FakeFcmServer.Error(503, "UNAVAILABLE", "Unavailable", "UNAVAILABLE"), RetryAfter: "17"));

        var result = await SendAsync(Channel(), Message(WebhookBody));

        Assert.That(result, Is.EqualTo(DeliveryResult.Retry("unavailable", TimeSpan.FromSeconds(17))));
    }

    [Test]
    public async Task RetryAfterAsAnHttpDateIsPassedOnAsTheTimeLeft()
    {
        var at = _time.GetUtcNow().AddSeconds(42).ToString("R", System.Globalization.CultureInfo.InvariantCulture);
        _fcm.Script.Enqueue(new ScriptedAnswer(HttpStatusCode.InternalServerError, FakeFcmServer.Error(500, "INTERNAL", "Internal", "INTERNAL"), RetryAfter: at));

        var result = await SendAsync(Channel(), Message(WebhookBody));

        Assert.That(result, Is.EqualTo(DeliveryResult.Retry("internal", TimeSpan.FromSeconds(42))));
    }

    [TestCase(HttpStatusCode.TooManyRequests, "RESOURCE_EXHAUSTED", "QUOTA_EXCEEDED", "quota-exceeded")]
    [TestCase(HttpStatusCode.Unauthorized, "UNAUTHENTICATED", "THIRD_PARTY_AUTH_ERROR", "credential-error")]
    [TestCase(HttpStatusCode.BadRequest, "INVALID_ARGUMENT", "INVALID_ARGUMENT", "invalid-argument")]
    public async Task FailuresAnOperatorMustFixAreLoggedAsErrors(HttpStatusCode status, string rpcStatus, string errorCode, string reason)
    {
        _fcm.Script.Enqueue(new ScriptedAnswer(status, FakeFcmServer.Error((int)status, rpcStatus, "Something about the message", errorCode)));

        var result = await SendAsync(Channel(), Message(WebhookBody));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(result, Is.EqualTo(DeliveryResult.Failed(reason)));
            Assert.That(ChannelLogs(LogLevel.Error), Has.Count.EqualTo(1));
        }
    }

    [Test]
    public async Task ADeadTokenIsNotLoggedAsAnError()
    {
        _fcm.Script.Enqueue(new ScriptedAnswer(HttpStatusCode.NotFound, FakeFcmServer.Error(404, "NOT_FOUND", "Requested entity was not found.", "UNREGISTERED")));

        await SendAsync(Channel(), Message(WebhookBody));

        Assert.That(ChannelLogs(LogLevel.Warning).Concat(ChannelLogs(LogLevel.Error)), Is.Empty);
    }

    [Test]
    public async Task ATokenEndpointThatRefusesTheServiceAccountIsACredentialError()
    {
        _fcm.TokenStatus = HttpStatusCode.BadRequest;

        var result = await SendAsync(Channel(), Message(WebhookBody));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(result, Is.EqualTo(DeliveryResult.Failed("credential-error")));
            Assert.That(_fcm.Sends, Is.Empty);
            Assert.That(ChannelLogs(LogLevel.Error), Has.Count.EqualTo(1));
        }
    }

    [Test]
    public async Task AKeyFileWithAnotherPrivateKeyGetsNoToken()
    {
        using var impostor = new ServiceAccount();
        var keyFile = _account.WriteKeyFile(_directory, _fcm.TokenUri, f => f["private_key"] = impostor.PrivateKeyPem);

        var result = await SendAsync(Channel(keyFile), Message(WebhookBody));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(result, Is.EqualTo(DeliveryResult.Failed("credential-error")));
            Assert.That(_fcm.TokenRefusals, Has.Some.Contains("signature"));
            Assert.That(_fcm.Sends, Is.Empty);
        }
    }

    [Test]
    public async Task ATokenEndpointThatIsDownIsRetriedLater()
    {
        _fcm.TokenStatus = HttpStatusCode.ServiceUnavailable;

        var result = await SendAsync(Channel(), Message(WebhookBody));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(result, Is.EqualTo(DeliveryResult.Retry("token-unavailable")));
            Assert.That(_fcm.Sends, Is.Empty);
        }
    }

    [Test]
    public async Task AConnectionFailureIsATransportErrorToRetry()
    {
        // Tokens from the running fake, messages to a fake that has stopped: its port is closed.
        var stopped = await FakeFcmServer.StartAsync(_account);
        var endpoint = stopped.BaseUrl;
        await stopped.DisposeAsync();

        var result = await SendAsync(Channel(endpoint: endpoint), Message(WebhookBody));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(result, Is.EqualTo(DeliveryResult.Retry("transport-error")));
            Assert.That(_fcm.TokenExchanges, Is.EqualTo(1));
        }
    }

    [Test]
    public async Task AnAttemptWithoutAnswerTimesOutAndIsRetried()
    {
        _fcm.Script.Enqueue(ScriptedAnswer.NoAnswer);
        var channel = Channel();

        var sending = SendAsync(channel, Message(WebhookBody));
        await _fcm.SendArrivedAsync();
        _time.Advance(FcmRegistration.AttemptTimeout);

        Assert.That(await sending, Is.EqualTo(DeliveryResult.Retry("timeout")));
    }

    [Test]
    public async Task TheCallersCancellationIsNotSwallowed()
    {
        _fcm.Script.Enqueue(ScriptedAnswer.NoAnswer);
        var channel = Channel();
        using var cancel = new CancellationTokenSource();

        var sending = channel.SendAsync(Message(WebhookBody), cancel.Token).AsTask();
        await _fcm.SendArrivedAsync();
        await cancel.CancelAsync();

        Assert.That(async () => await sending.WaitAsync(TimeSpan.FromSeconds(10)), Throws.InstanceOf<OperationCanceledException>());
    }

    [Test]
    public async Task ServerErrorsForSeveralTokensOpenTheCircuitAndThenDeliveriesFailFastUntilTheBreakEnds()
    {
        for (var i = 0; i < ProviderCircuit.MinimumThroughput; i++)
        {
            _fcm.Script.Enqueue(new ScriptedAnswer(HttpStatusCode.ServiceUnavailable, FakeFcmServer.Error(503, "UNAVAILABLE", "Unavailable", "UNAVAILABLE")));
        }

        var channel = Channel();
        var failing = new List<DeliveryResult>();
        for (var i = 0; i < ProviderCircuit.MinimumThroughput; i++)
        {
            failing.Add(await SendAsync(channel, Message(WebhookBody, token: Token(i % ProviderCircuit.DistinctDevices))));
        }

        var whileOpen = await SendAsync(channel, Message(WebhookBody));
        var sendsWhileOpen = _fcm.Sends.Count;
        _time.Advance(TimeSpan.FromSeconds(1.5));
        var later = await SendAsync(channel, Message(WebhookBody));
        _time.Advance(ProviderCircuit.BreakDuration);
        var afterBreak = await SendAsync(channel, Message(WebhookBody));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(failing, Is.All.EqualTo(DeliveryResult.Retry("unavailable")));
            Assert.That(whileOpen, Is.EqualTo(DeliveryResult.Retry("circuit-open", ProviderCircuit.BreakDuration)));
            Assert.That(sendsWhileOpen, Is.EqualTo(ProviderCircuit.MinimumThroughput), "the open circuit calls nobody");
            Assert.That(later, Is.EqualTo(DeliveryResult.Retry("circuit-open", ProviderCircuit.BreakDuration - TimeSpan.FromSeconds(1.5))), "retry when it half-opens");
            Assert.That(afterBreak, Is.EqualTo(DeliveryResult.Accepted()), "after the break a probe goes through");
            Assert.That(_fcm.Sends, Has.Count.EqualTo(ProviderCircuit.MinimumThroughput + 1));
        }
    }

    /// <summary>Issue #15: one FCM token answering 503 opened the whole circuit and held back other people's calls.</summary>
    [Test]
    public async Task OneTokenThatKeepsFailingNeverHoldsBackAnotherTokensDelivery()
    {
        var channel = Channel();
        var failing = new List<DeliveryResult>();
        var healthy = new List<DeliveryResult>();
        for (var round = 0; round < 3 * ProviderCircuit.MinimumThroughput; round++)
        {
            _fcm.Script.Enqueue(new ScriptedAnswer(HttpStatusCode.ServiceUnavailable, FakeFcmServer.Error(503, "UNAVAILABLE", "Unavailable", "UNAVAILABLE")));
            failing.Add(await SendAsync(channel, Message(WebhookBody, token: Token(0))));
            _fcm.Script.Enqueue(new ScriptedAnswer(HttpStatusCode.ServiceUnavailable, FakeFcmServer.Error(503, "UNAVAILABLE", "Unavailable", "UNAVAILABLE")));
            failing.Add(await SendAsync(channel, Message(WebhookBody, token: Token(0))));

            // Healthy tokens, each on its first attempt.
            healthy.Add(await SendAsync(channel, Message(WebhookBody, token: Token(round + 1))));
            _time.Advance(TimeSpan.FromMilliseconds(200));
        }

        using (Assert.EnterMultipleScope())
        {
            Assert.That(failing, Is.All.EqualTo(DeliveryResult.Retry("unavailable")), "the failing token is still tried: its own failures do not open the circuit");
            Assert.That(healthy, Is.All.EqualTo(DeliveryResult.Accepted()), "every healthy delivery accepted on its first attempt");
        }
    }

    [Test]
    public async Task FcmRefusingOurCredentialsOpensTheCircuitWhateverTheToken()
    {
        for (var i = 0; i < ProviderCircuit.MinimumThroughput; i++)
        {
            _fcm.Script.Enqueue(new ScriptedAnswer(HttpStatusCode.Unauthorized, FakeFcmServer.Error(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.", "THIRD_PARTY_AUTH_ERROR")));
        }

        var channel = Channel();
        for (var i = 0; i < ProviderCircuit.MinimumThroughput; i++)
        {
            await SendAsync(channel, Message(WebhookBody));
        }

        var whileOpen = await SendAsync(channel, Message(WebhookBody, token: Token(7)));

        Assert.That(whileOpen, Is.EqualTo(DeliveryResult.Retry("circuit-open", ProviderCircuit.BreakDuration)));
    }

    private static string Token(int k) => $"dQw4w9WgXcQ:APA91bHun4MxP5egoKMwt2KZFBaFUH-1RYqx_sTOKEN{k:D4}";

    [Test]
    public async Task NoLogHoldsThePushTokenTheAccessTokenOrTheBody()
    {
        var channel = Channel();
        _fcm.Script.Enqueue(new ScriptedAnswer(HttpStatusCode.NotFound, FakeFcmServer.Error(404, "NOT_FOUND", "Requested entity was not found.", "UNREGISTERED")));
        _fcm.Script.Enqueue(new ScriptedAnswer(HttpStatusCode.BadRequest, FakeFcmServer.Error(400, "INVALID_ARGUMENT", $"Bad token {RegistrationToken}", "INVALID_ARGUMENT")));
        _fcm.Script.Enqueue(new ScriptedAnswer(HttpStatusCode.ServiceUnavailable, FakeFcmServer.Error(503, "UNAVAILABLE", "Unavailable", "UNAVAILABLE")));
        _fcm.Script.Enqueue(new ScriptedAnswer(HttpStatusCode.TooManyRequests, FakeFcmServer.Error(429, "RESOURCE_EXHAUSTED", "Quota", "QUOTA_EXCEEDED")));
        for (var i = 0; i < 5; i++)
        {
            await SendAsync(channel, Message(WebhookBody));
        }

        await SendAsync(channel, Message($$"""{"big":"{{new string('x', 5000)}}"}"""));

        var accessToken = _fcm.Sends.First().Authorization["Bearer ".Length..];
        var everything = _logs.Entries.Select(e => e.Message + e.Exception).ToList();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(everything, Is.Not.Empty);
            Assert.That(everything, Has.None.Contains(RegistrationToken));
            Assert.That(everything, Has.None.Contains(accessToken));
            Assert.That(everything, Has.None.Contains("twi_bridge_token"));
            Assert.That(ChannelLogs(LogLevel.Information).Concat(ChannelLogs(LogLevel.Error)), Has.Some.Contains(PushAddress.Redact(RegistrationToken)));
        }
    }

    private INotificationChannel Channel(string? keyFile = null, Uri? endpoint = null)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Fcm:CredentialsFile"] = keyFile ?? _account.WriteKeyFile(_directory, _fcm.TokenUri),
                ["Fcm:Endpoint"] = (endpoint ?? _fcm.BaseUrl).ToString(),
            })
            .Build();
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(_time);
        services.AddLogging(b => b.SetMinimumLevel(LogLevel.Trace).AddProvider(_logs));
        services.AddFcmChannel(configuration);
        _services = services.BuildServiceProvider(new ServiceProviderOptions { ValidateScopes = true, ValidateOnBuild = true });
        return _services.GetServices<INotificationChannel>().Single();
    }

    private ChannelMessage Message(string body, TimeSpan? inviteLeft = null, string token = RegistrationToken) =>
        new(
            "DL00000000000000000000000000000001",
            ChannelKind.Fcm,
            token,
            BindingRegistration.None,
            "WB22222222222222222222222222222222",
            Encoding.UTF8.GetBytes(body),
            _time.GetUtcNow() + (inviteLeft ?? TimeSpan.FromSeconds(30)));

    private static Task<DeliveryResult> SendAsync(INotificationChannel channel, ChannelMessage message) =>
        channel.SendAsync(message, CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(10));

    private List<string> ChannelLogs(LogLevel level) =>
        _logs.Entries.Where(e => e.Level == level && e.Category == typeof(FcmChannel).FullName).Select(e => e.Message).ToList();
}
