using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using CallNotify.Api.IntegrationTests.Support;
using CallNotify.Infrastructure.Tests.Channels.Fcm;

namespace CallNotify.Api.IntegrationTests;

/// <summary>
/// Issue #15: one FCM token that keeps answering 503 opened the whole FCM circuit, and a call to another identity had
/// a device refused with "the circuit is open … retry in 10 s". Here a permanently failing token is retried in the
/// background while calls to healthy devices go on: every healthy delivery is accepted on its first attempt. Real
/// Kestrel, real store, a fake FCM on loopback.
/// </summary>
[TestFixture(StoreKind.Postgres)]
public sealed class PushIsolationTests(StoreKind store) : FakeFcmFixture(store)
{
    private const string FailingToken = "fcm-token-that-always-fails";

    protected override IDictionary<string, string?>? Settings => new Dictionary<string, string?>(FcmSettings())
    {
        ["Dispatch:ResponseDeadlineMilliseconds"] = "500",
        ["Dispatch:InviteTtlSeconds"] = "15",
    };

    protected override async Task BeforeStartAsync()
    {
        await base.BeforeStartAsync();
        Fcm.AnswerFor = token => token == FailingToken
            ? new ScriptedAnswer(HttpStatusCode.ServiceUnavailable, FakeFcmServer.Error(503, "UNAVAILABLE", "Unavailable", "UNAVAILABLE"))
            : null;
    }

    [Test]
    public async Task APermanentlyFailingTokenNeverHoldsBackAHealthyOne()
    {
        await RegisterAsync(identity: "broken", channel: "fcm", address: FailingToken);
        const int Healthy = 6;
        for (var i = 0; i < Healthy; i++)
        {
            await RegisterAsync(identity: $"healthy-{i}", channel: "fcm", address: $"fcm-healthy-token-{i}");
        }

        // Calls to the broken device, each retried in the background with backoff for the invite's 15 s.
        var broken = await Task.WhenAll(Enumerable.Range(0, 12).Select(_ => PostWebhookAsync(TwilioRequests.Body(to: "client:broken"))));
        var failedAttempts = Fcm.Sends.Count;

        // Then calls to healthy devices, while the broken one keeps failing; each is answered at its first attempt.
        var healthyIds = new List<string>();
        var answers = new List<HttpStatusCode>();
        for (var round = 0; round < 3; round++)
        {
            var brokenTriedBefore = BrokenAttempts();
            for (var i = 0; i < Healthy; i++)
            {
                var messageId = TwilioRequests.NewMessageId();
                using var response = await PostWebhookAsync(TwilioRequests.Body(to: $"client:healthy-{i}", messageId: messageId));
                answers.Add(response.StatusCode);
                healthyIds.Add(messageId);
            }

            // The next round comes after the broken device was retried and refused again.
            await Eventually.Until(() => Task.FromResult(BrokenAttempts()), n => n > brokenTriedBefore);
        }

        var deliveries = new List<JsonElement>();
        foreach (var messageId in healthyIds)
        {
            deliveries.Add(await Eventually.Until(
                async () => (await GetNotificationAsync(messageId)).GetProperty("deliveries")[0],
                d => d.GetProperty("status").GetString() != "pending"));
        }

        foreach (var response in broken)
        {
            response.Dispose();
        }

        using (Assert.EnterMultipleScope())
        {
            Assert.That(failedAttempts, Is.GreaterThanOrEqualTo(12), "the broken device was tried");
            Assert.That(broken.Select(r => r.StatusCode), Is.All.EqualTo(HttpStatusCode.ServiceUnavailable));
            Assert.That(answers, Is.All.EqualTo(HttpStatusCode.OK));
            Assert.That(deliveries.Select(d => d.GetProperty("status").GetString()), Is.All.EqualTo("accepted"));
            Assert.That(deliveries.Select(d => d.GetProperty("attempts").GetInt32()), Is.All.EqualTo(1), "accepted on the first attempt");
        }
    }

    private int BrokenAttempts() => Fcm.Sends.Count(s =>
        s.Json().RootElement.GetProperty("message").GetProperty("token").GetString() == FailingToken);
}
