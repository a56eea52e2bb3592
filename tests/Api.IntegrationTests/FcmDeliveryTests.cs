using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using CallNotify.Api.IntegrationTests.Support;
using CallNotify.Application.Calls.ResumeStalledDeliveries;
using CallNotify.Application.Common.Ports;
using CallNotify.Domain.Common;
using CallNotify.Domain.Notifications;
using CallNotify.Infrastructure.Tests.Channels.Fcm;
using Mediator;
using Microsoft.Extensions.DependencyInjection;

namespace CallNotify.Api.IntegrationTests;

/// <summary>The whole path with FCM configured: webhook → store → FCM HTTP v1 (a fake server on loopback) → outcome.</summary>
[TestFixture(StoreKind.Postgres)]
[TestFixture(StoreKind.Sqlite)]
public sealed class FcmDeliveryTests(StoreKind store) : FakeFcmFixture(store)
{
    [Test]
    public async Task DeliversTheBodyAsAnFcmDataMessageAndAnswers200()
    {
        var binding = await RegisterAsync(identity: "bob", channel: "fcm", address: "fcm-registration-token-1");
        var messageId = TwilioRequests.NewMessageId();
        var body = TwilioRequests.Body(messageId: messageId);

        using var response = await PostWebhookAsync(body);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(Fcm.Sends, Has.Count.EqualTo(1));
        Fcm.Sends.TryPeek(out var send);
        using var sent = send!.Json();
        var message = sent.RootElement.GetProperty("message");
        using var original = JsonDocument.Parse(body);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(message.GetProperty("token").GetString(), Is.EqualTo("fcm-registration-token-1"));
            Assert.That(message.GetProperty("android").GetProperty("priority").GetString(), Is.EqualTo("HIGH"));
            foreach (var field in original.RootElement.EnumerateObject())
            {
                Assert.That(message.GetProperty("data").GetProperty(field.Name).GetString(), Is.EqualTo(field.Value.GetString()), field.Name);
            }
        }

        // 200 is answered at the accepted send; the result's record follows (ADR 0019).
        var delivery = await Eventually.Until(
            async () => (await GetNotificationAsync(messageId)).GetProperty("deliveries")[0],
            d => d.GetProperty("status").GetString() != "pending");
        var reread = await Eventually.Until(
            async () => await Admin.GetFromJsonAsync<JsonElement>($"/admin/v1/bindings/{binding.GetProperty("id").GetString()}"),
            b => b.GetProperty("lastDeliveryAt").ValueKind == JsonValueKind.String);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(delivery.GetProperty("status").GetString(), Is.EqualTo("accepted"));
            Assert.That(delivery.GetProperty("channel").GetString(), Is.EqualTo("fcm"));
            Assert.That(reread.GetProperty("lastDeliveryAt").ValueKind, Is.EqualTo(JsonValueKind.String));
        }
    }

    [Test]
    public async Task AnUnregisteredTokenDeactivatesTheBindingAnd404sWhenItWasTheOnlyClient()
    {
        var binding = await RegisterAsync(identity: "bob", channel: "fcm", address: "fcm-dead-token");
        Fcm.Script.Enqueue(new ScriptedAnswer(HttpStatusCode.NotFound, FakeFcmServer.Error(404, "NOT_FOUND", "Requested entity was not found.", "UNREGISTERED")));

        using var first = await PostWebhookAsync(TwilioRequests.Body());
        var reread = await Eventually.Until(async () => await Admin.GetFromJsonAsync<JsonElement>($"/admin/v1/bindings/{binding.GetProperty("id").GetString()}"),
            b => b.GetProperty("status").GetString() == "inactive");
        using var second = await PostWebhookAsync(TwilioRequests.Body());

        using (Assert.EnterMultipleScope())
        {
            Assert.That(first.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
            Assert.That(reread.GetProperty("inactiveReason").GetString(), Is.EqualTo("unregistered"));
            Assert.That(second.StatusCode, Is.EqualTo(HttpStatusCode.NotFound), "A deactivated binding is never tried again.");
            Assert.That(Fcm.Sends, Has.Count.EqualTo(1));
        }
    }

    [Test]
    public async Task AnswersAtTheFirstAcceptedDeliveryWhileAnotherIsStillRetrying()
    {
        await RegisterAsync(identity: "bob", channel: "fcm", address: "fcm-flaky-token");
        using var bob = await ConnectAsync("bob");
        Fcm.Script.Enqueue(new ScriptedAnswer(HttpStatusCode.ServiceUnavailable, FakeFcmServer.Error(503, "UNAVAILABLE", "try later", "UNAVAILABLE"), RetryAfter: "1"));
        var messageId = TwilioRequests.NewMessageId();

        using var response = await PostWebhookAsync(TwilioRequests.Body(messageId: messageId));
        var frame = await ReceiveFrameAsync(bob, TimeSpan.FromSeconds(5));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(frame, Is.Not.Null);
        }

        // The FCM delivery is retried after FCM's Retry-After and then accepted.
        var fcmDelivery = await Eventually.Until(
            async () => (await GetNotificationAsync(messageId)).GetProperty("deliveries").EnumerateArray().Single(d => d.GetProperty("channel").GetString() == "fcm"),
            d => d.GetProperty("status").GetString() == "accepted");
        Assert.That(fcmDelivery.GetProperty("attempts").GetInt32(), Is.EqualTo(2));
    }

    [Test]
    public async Task APayloadOverFcmsLimitFailsThatDeliveryAndKeepsTheBinding()
    {
        var binding = await RegisterAsync(identity: "bob", channel: "fcm", address: "fcm-big-token");
        var body = TwilioRequests.Body().TrimEnd('}') + ",\"twi_params\":\"" + new string('p', 5000) + "\"}";
        body = body.Replace("\"twi_params\":\"k=v&k2=v%202\",", string.Empty, StringComparison.Ordinal);
        var messageId = JsonDocument.Parse(body).RootElement.GetProperty("twi_message_id").GetString()!;

        using var response = await PostWebhookAsync(body);

        var delivery = (await GetNotificationAsync(messageId)).GetProperty("deliveries")[0];
        var reread = await Admin.GetFromJsonAsync<JsonElement>($"/admin/v1/bindings/{binding.GetProperty("id").GetString()}");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.ServiceUnavailable));
            Assert.That(delivery.GetProperty("lastError").GetString(), Is.EqualTo("payload-too-large"));
            Assert.That(reread.GetProperty("status").GetString(), Is.EqualTo("active"));
            Assert.That(Fcm.Sends, Is.Empty);
        }
    }

    [Test]
    public async Task ADeliveryLeftPendingByADeadInstanceIsTakenOverAndSent()
    {
        var binding = await RegisterAsync(identity: "bob", channel: "fcm", address: "fcm-orphan-token");
        var messageId = await RecordOrphanAsync(binding, receivedSecondsAgo: 25);

        await ResumeStalledAsync();
        var delivery = await Eventually.Until(
            async () => (await GetNotificationAsync(messageId)).GetProperty("deliveries")[0],
            d => d.GetProperty("status").GetString() != "pending");

        using (Assert.EnterMultipleScope())
        {
            Assert.That(delivery.GetProperty("status").GetString(), Is.EqualTo("accepted"));
            Assert.That(Fcm.Sends, Has.Count.EqualTo(1));
        }
    }

    [Test]
    public async Task ADeliveryWhoseInviteEndedWhileItsInstanceWasDeadIsRecordedExpiredAndNeverSent()
    {
        var binding = await RegisterAsync(identity: "bob", channel: "fcm", address: "fcm-late-token");
        var messageId = await RecordOrphanAsync(binding, receivedSecondsAgo: 45);

        await ResumeStalledAsync();
        var delivery = (await GetNotificationAsync(messageId)).GetProperty("deliveries")[0];

        using (Assert.EnterMultipleScope())
        {
            Assert.That(delivery.GetProperty("status").GetString(), Is.EqualTo("expired"));
            Assert.That(Fcm.Sends, Is.Empty);
        }
    }

    /// <summary>Records a notification with a pending delivery, as an instance that died right after recording it leaves it.</summary>
    private async Task<string> RecordOrphanAsync(JsonElement binding, int receivedSecondsAgo)
    {
        var messageId = TwilioRequests.NewMessageId();
        var body = Encoding.UTF8.GetBytes(TwilioRequests.Body(messageId: messageId));
        var notification = CallNotification.Receive(
            AccountSid.Parse(CallNotifyApp.AccountSid), messageId, "CA1", "client:alice", "client:bob", ClientIdentity.Parse("bob"), "twilio.voice.call",
            body, DateTimeOffset.UtcNow.AddSeconds(-receivedSecondsAgo), TimeSpan.FromSeconds(30),
            [DeliveryTarget.ForBinding(binding.GetProperty("id").GetString()!, ChannelKind.Fcm)]);
        Assert.That(await App.Services.GetRequiredService<INotificationStore>().TryAddAsync(notification, CancellationToken.None), Is.True);
        return messageId;
    }

    private async Task ResumeStalledAsync()
    {
        await using var scope = App.Services.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<ISender>().Send(new ResumeStalledDeliveriesCommand());
    }
}
