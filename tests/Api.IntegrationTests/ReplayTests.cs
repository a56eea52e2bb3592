using System.Net;
using CallNotify.Api.IntegrationTests.Support;
using CallNotify.Application.Common.Ports;
using Microsoft.Extensions.DependencyInjection;

namespace CallNotify.Api.IntegrationTests;

/// <summary>
/// Issue #15: a captured signed webhook answered 404 was recorded nowhere, so replaying it once the callee was online
/// rang them, and after the retention purge any replay rang again. Now the outcome of every signed webhook is
/// remembered per (account, twi_message_id) for <c>Retention:MessageIdDays</c>: a replay is answered from it and sends
/// nothing (SPEC §3 step 6, §8). Real Kestrel, real clients, both stores.
/// </summary>
[TestFixture(StoreKind.Sqlite)]
[TestFixture(StoreKind.Postgres)]
public sealed class ReplayTests(StoreKind store) : ApiFixture(store)
{
    private static readonly TimeSpan FrameWait = TimeSpan.FromSeconds(2);

    [Test]
    public async Task AWebhookAnswered404ReplayedOnceTheCalleeIsOnlineIs404AgainAndRingsNobody()
    {
        var identity = NewIdentity();
        var body = TwilioRequests.Body(to: "client:" + identity);
        using var first = await PostWebhookAsync(body);

        using var client = await ConnectAsync(identity);
        using var replay = await PostWebhookAsync(body);
        var frame = await ReceiveFrameAsync(client, FrameWait);

        // The callee is reachable: a new call (another message id) does ring. (A receive that timed out aborts a
        // ClientWebSocket, so a fresh client listens.)
        using var again = await WebSocketClients.ConnectAsync(App, identity);
        using var newCall = await PostWebhookAsync(TwilioRequests.Body(to: "client:" + identity));
        var newFrame = await ReceiveFrameAsync(again, TimeSpan.FromSeconds(5));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(first.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
            Assert.That(replay.StatusCode, Is.EqualTo(HttpStatusCode.NotFound), "answered from the first outcome");
            Assert.That(frame, Is.Null, "the replay rang nobody");
            Assert.That(newCall.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(newFrame, Is.Not.Null);
        }
    }

    [Test]
    public async Task AWebhookReplayedAfterItsRecordWasPurgedIsAnsweredFromItsOutcomeAndRingsNobody()
    {
        var identity = NewIdentity();
        using var client = await ConnectAsync(identity);
        var messageId = TwilioRequests.NewMessageId();
        var body = TwilioRequests.Body(to: "client:" + identity, messageId: messageId);
        using var first = await PostWebhookAsync(body);
        Assert.That(await ReceiveFrameAsync(client, TimeSpan.FromSeconds(5)), Is.Not.Null);
        await Eventually.Until(
            async () => (await GetNotificationAsync(messageId)).GetProperty("outcome").GetString(),
            outcome => outcome == "delivered");

        // The sweeper's purge, as it runs once Retention:NotificationDays have passed.
        var purged = await App.Services.GetRequiredService<INotificationHistory>()
            .PurgeReceivedBeforeAsync(DateTimeOffset.UtcNow.AddMinutes(1), 1000, CancellationToken.None);
        using var record = await Admin.GetAsync($"/admin/v1/notifications/{messageId}?accountSid={CallNotifyApp.AccountSid}");
        using var replay = await PostWebhookAsync(body);
        var frame = await ReceiveFrameAsync(client, FrameWait);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(first.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(purged, Is.GreaterThanOrEqualTo(1));
            Assert.That(record.StatusCode, Is.EqualTo(HttpStatusCode.NotFound), "the record and its body are gone");
            Assert.That(replay.StatusCode, Is.EqualTo(HttpStatusCode.OK), "answered from the remembered outcome");
            Assert.That(frame, Is.Null, "the replay rang nobody");
        }
    }

    [Test]
    public async Task OnceForgottenAMessageIdIsNewAgain()
    {
        var identity = NewIdentity();
        var body = TwilioRequests.Body(to: "client:" + identity);
        using var first = await PostWebhookAsync(body);
        var forgotten = await App.Services.GetRequiredService<INotificationHistory>()
            .ForgetRememberedBeforeAsync(DateTimeOffset.UtcNow.AddMinutes(1), 1000, CancellationToken.None);

        using var client = await ConnectAsync(identity);
        using var replay = await PostWebhookAsync(body);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(first.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
            Assert.That(forgotten, Is.GreaterThanOrEqualTo(1));
            Assert.That(replay.StatusCode, Is.EqualTo(HttpStatusCode.OK), "past Retention:MessageIdDays the id is not known any more");
        }
    }

    private static string NewIdentity() => "replay-" + Guid.NewGuid().ToString("N")[..10];
}
