using CallNotify.Domain.Common;
using CallNotify.Domain.Notifications;
using CallNotify.Infrastructure.Channels.Apns;
using CallNotify.Infrastructure.Tests.Channels.Apns.Support;
using Microsoft.Extensions.Logging;

namespace CallNotify.Infrastructure.Tests.Channels.Apns;

public sealed class ApnsResponseMappingTests : ApnsWireTestBase
{
    private static IEnumerable<TestCaseData> Answers()
    {
        yield return Case(200, null, DeliveryResultKind.Accepted, null, LogLevel.Debug);
        yield return Case(410, "Unregistered", DeliveryResultKind.ClientGone, "unregistered", LogLevel.Information);
        yield return Case(410, "ExpiredToken", DeliveryResultKind.ClientGone, "expired-token", LogLevel.Information);
        yield return Case(400, "BadDeviceToken", DeliveryResultKind.ClientGone, "bad-device-token", LogLevel.Information);
        yield return Case(400, "DeviceTokenNotForTopic", DeliveryResultKind.ClientGone, "device-token-not-for-topic", LogLevel.Information);
        yield return Case(403, "InvalidProviderToken", DeliveryResultKind.Failed, "credential-error", LogLevel.Error);
        yield return Case(403, "MissingProviderToken", DeliveryResultKind.Failed, "credential-error", LogLevel.Error);
        yield return Case(403, "BadCertificate", DeliveryResultKind.Failed, "credential-error", LogLevel.Error);
        yield return Case(403, "BadCertificateEnvironment", DeliveryResultKind.Failed, "credential-error", LogLevel.Error);
        yield return Case(413, "PayloadTooLarge", DeliveryResultKind.Failed, "payload-too-large", LogLevel.Warning);
        yield return Case(429, "TooManyRequests", DeliveryResultKind.Retry, "too-many-requests", LogLevel.Warning);
        yield return Case(429, "TooManyProviderTokenUpdates", DeliveryResultKind.Retry, "too-many-provider-token-updates", LogLevel.Warning);
        yield return Case(500, "InternalServerError", DeliveryResultKind.Retry, "internal-server-error", LogLevel.Warning);
        yield return Case(503, "ServiceUnavailable", DeliveryResultKind.Retry, "service-unavailable", LogLevel.Warning);
        yield return Case(503, "Shutdown", DeliveryResultKind.Retry, "shutdown", LogLevel.Warning);
        yield return Case(503, null, DeliveryResultKind.Retry, "http-503", LogLevel.Warning);
        yield return Case(400, "BadTopic", DeliveryResultKind.Failed, "bad-topic", LogLevel.Warning);
        yield return Case(400, "TopicDisallowed", DeliveryResultKind.Failed, "topic-disallowed", LogLevel.Warning);
        yield return Case(400, "BadExpirationDate", DeliveryResultKind.Failed, "bad-expiration-date", LogLevel.Warning);
        yield return Case(400, null, DeliveryResultKind.Failed, "http-400", LogLevel.Warning);
    }

    [TestCaseSource(nameof(Answers))]
    public async Task AnApnsAnswerBecomesItsDeliveryResultAfterOneRequest(int status, string? reason, DeliveryResultKind kind, string? expectedReason, LogLevel level)
    {
        Server.Respond = (_, _) => Task.FromResult(new FakeReply(status, reason));

        var result = await SendAsync(ChannelKind.ApnsVoip);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.Kind, Is.EqualTo(kind));
            Assert.That(result.Reason, Is.EqualTo(expectedReason));
            Assert.That(result.RetryAfter, Is.Null);
            Assert.That(Server.Requests, Has.Count.EqualTo(1), "one attempt per send: the dispatcher does the retrying");
            Assert.That(SenderLogs().Select(e => e.Level), Is.EqualTo(new[] { level }));
        }
    }

    [Test]
    public async Task RetryAfterInSecondsIsPassedOn()
    {
        Server.Respond = (_, _) => Task.FromResult(new FakeReply(429, "TooManyRequests", RetryAfter: "7"));

        var result = await SendAsync(ChannelKind.Apns);

        Assert.That(result, Is.EqualTo(DeliveryResult.Retry("too-many-requests", TimeSpan.FromSeconds(7))));
    }

    [Test]
    public async Task RetryAfterAsADateIsPassedOnAsTheTimeLeftUntilIt()
    {
        var at = Start.AddSeconds(12).ToString("R", System.Globalization.CultureInfo.InvariantCulture);
        Server.Respond = (_, _) => Task.FromResult(new FakeReply(503, "ServiceUnavailable", RetryAfter: at));

        var result = await SendAsync(ChannelKind.ApnsVoip);

        Assert.That(result, Is.EqualTo(DeliveryResult.Retry("service-unavailable", TimeSpan.FromSeconds(12))));
    }

    [TestCase("BadExpirationDate", "bad-expiration-date")]
    [TestCase("TooManyProviderTokenUpdates", "too-many-provider-token-updates")]
    [TestCase("BadURLPath", "bad-url-path")]
    [TestCase("Shutdown", "shutdown")]
    [TestCase("Bad Topic!\n", "bad-topic")]
    [TestCase("", null)]
    [TestCase(null, null)]
    public void ApplesReasonsBecomeKebabCase(string? reason, string? expected)
    {
        Assert.That(ApnsSender.KebabCase(reason), Is.EqualTo(expected));
    }

    private static TestCaseData Case(int status, string? reason, DeliveryResultKind kind, string? expectedReason, LogLevel level) =>
        new TestCaseData(status, reason, kind, expectedReason, level).SetArgDisplayNames($"{status} {reason ?? "(no reason)"}");
}
