using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using CallNotify.Api.IntegrationTests.Support;

namespace CallNotify.Api.IntegrationTests;

[TestFixture(StoreKind.Postgres)]
[TestFixture(StoreKind.Sqlite)]
public sealed class WebhookTests(StoreKind store) : ApiFixture(store)
{
    private static readonly TimeSpan FrameWait = TimeSpan.FromSeconds(5);

    [Test]
    public async Task DeliversTheExactBodyToAConnectedWebSocketClientAndAnswers200()
    {
        using var bob = await ConnectAsync("bob");
        var messageId = TwilioRequests.NewMessageId();
        var body = TwilioRequests.Body(messageId: messageId);

        using var response = await PostWebhookAsync(body);
        var frame = await ReceiveFrameAsync(bob, FrameWait);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(frame, Is.EqualTo(Encoding.UTF8.GetBytes(body)));
        }

        // 200 is answered at the accepted send; the result's record follows (ADR 0019).
        var notification = await Eventually.Until(
            () => GetNotificationAsync(messageId), n => n.GetProperty("outcome").GetString() != "pending");
        var delivery = notification.GetProperty("deliveries")[0];
        using (Assert.EnterMultipleScope())
        {
            Assert.That(notification.GetProperty("outcome").GetString(), Is.EqualTo("delivered"));
            Assert.That(delivery.GetProperty("channel").GetString(), Is.EqualTo("websocket"));
            Assert.That(delivery.GetProperty("status").GetString(), Is.EqualTo("accepted"));
            Assert.That(delivery.GetProperty("sessionId").GetString(), Does.StartWith("WS"));
        }
    }

    [Test]
    public async Task ForwardsUnknownFieldsAndOddFormattingByteForByte()
    {
        using var bob = await ConnectAsync("bob");
        var body = "{ \"twi_account_sid\" : \"" + CallNotifyApp.AccountSid + "\",\n  \"twi_call_sid\":\"CA1\", \"twi_message_id\":\"" + TwilioRequests.NewMessageId() +
            "\",\"twi_message_type\":\"twilio.voice.call\",\"twi_to\":\"client:bob\",\"twi_answer_timeout\":30,\"x\":{\"nested\":[1,2,\"\\u00e9\"]},\"emoji\":\"\u260e\"}\n";

        using var response = await PostWebhookAsync(body);
        var frame = await ReceiveFrameAsync(bob, FrameWait);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(frame, Is.EqualTo(Encoding.UTF8.GetBytes(body)));
        }
    }

    [Test]
    public async Task NotifiesEveryClientOfTheCalleeAndNobodyElse()
    {
        using var bobPhone = await ConnectAsync("bob");
        using var bobLaptop = await ConnectAsync("bob");
        using var alice = await ConnectAsync("alice");
        using var otherAccountBob = await ConnectAsync("bob", CallNotifyApp.OtherAccountSid);
        var body = TwilioRequests.Body(to: "client:bob");

        using var response = await PostWebhookAsync(body);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        var expected = Encoding.UTF8.GetBytes(body);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(await ReceiveFrameAsync(bobPhone, FrameWait), Is.EqualTo(expected));
            Assert.That(await ReceiveFrameAsync(bobLaptop, FrameWait), Is.EqualTo(expected));
            Assert.That(await ReceiveFrameAsync(alice, TimeSpan.FromMilliseconds(300)), Is.Null);
            Assert.That(await ReceiveFrameAsync(otherAccountBob, TimeSpan.FromMilliseconds(300)), Is.Null);
        }
    }

    [Test]
    public async Task Returns404WhenCalleeHasNoActiveBinding()
    {
        await RegisterAsync(identity: "alice");

        using var response = await PostWebhookAsync(TwilioRequests.Body(to: "client:bob"));

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/problem+json"));
    }

    [Test]
    public async Task Returns503WithRetryAfterWhenTheOnlyChannelIsNotConfigured()
    {
        var binding = await RegisterAsync(identity: "bob", channel: "fcm");
        var messageId = TwilioRequests.NewMessageId();

        using var response = await PostWebhookAsync(TwilioRequests.Body(messageId: messageId));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.ServiceUnavailable));
            Assert.That(response.Headers.RetryAfter, Is.Not.Null);
        }

        var delivery = (await GetNotificationAsync(messageId)).GetProperty("deliveries")[0];
        using (Assert.EnterMultipleScope())
        {
            Assert.That(delivery.GetProperty("bindingId").GetString(), Is.EqualTo(binding.GetProperty("id").GetString()));
            Assert.That(delivery.GetProperty("status").GetString(), Is.EqualTo("failed"));
            Assert.That(delivery.GetProperty("lastError").GetString(), Is.EqualTo("channel-not-configured"));
        }

        // The binding stays active: the channel's absence is not the token's fault.
        var reread = await Admin.GetFromJsonAsync<JsonElement>($"/admin/v1/bindings/{binding.GetProperty("id").GetString()}");
        Assert.That(reread.GetProperty("status").GetString(), Is.EqualTo("active"));
    }

    [Test]
    public async Task Answers200WhenAWebSocketClientAcceptsEvenIfAPushChannelIsNotConfigured()
    {
        await RegisterAsync(identity: "bob", channel: "apns-voip");
        using var bob = await ConnectAsync("bob");

        using var response = await PostWebhookAsync(TwilioRequests.Body());

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
    }

    [Test]
    public async Task ARepeatedMessageIdSendsNothingAgainAndAnswersTheFirstOutcome()
    {
        using var bob = await ConnectAsync("bob");
        var body = TwilioRequests.Body(messageId: TwilioRequests.NewMessageId());

        using var first = await PostWebhookAsync(body);
        var firstFrame = await ReceiveFrameAsync(bob, FrameWait);
        using var second = await PostWebhookAsync(body);
        var secondFrame = await ReceiveFrameAsync(bob, TimeSpan.FromMilliseconds(500));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(first.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(second.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(firstFrame, Is.Not.Null);
            Assert.That(secondFrame, Is.Null, "The repeat must not be delivered again.");
        }
    }

    [Test]
    public async Task ARepeatOfAnUndeliveredNotificationAnswers503Again()
    {
        await RegisterAsync(identity: "bob", channel: "fcm");
        var body = TwilioRequests.Body(messageId: TwilioRequests.NewMessageId());

        using var first = await PostWebhookAsync(body);
        using var second = await PostWebhookAsync(body);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(first.StatusCode, Is.EqualTo(HttpStatusCode.ServiceUnavailable));
            Assert.That(second.StatusCode, Is.EqualTo(HttpStatusCode.ServiceUnavailable));
        }

        var notifications = await Admin.GetFromJsonAsync<JsonElement>($"/admin/v1/notifications?accountSid={CallNotifyApp.AccountSid}");
        Assert.That(notifications.GetProperty("notifications").GetArrayLength(), Is.EqualTo(1));
    }

    [Test]
    public async Task AnAcknowledgementFromTheClientIsRecorded()
    {
        using var bob = await ConnectAsync("bob");
        var messageId = TwilioRequests.NewMessageId();
        using var response = await PostWebhookAsync(TwilioRequests.Body(messageId: messageId));
        Assert.That(await ReceiveFrameAsync(bob, FrameWait), Is.Not.Null);

        var ack = Encoding.UTF8.GetBytes($"{{\"type\":\"ack\",\"twi_message_id\":\"{messageId}\"}}");
        await bob.SendAsync(ack, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);

        var delivery = await Eventually.Until(
            async () => (await GetNotificationAsync(messageId)).GetProperty("deliveries")[0],
            d => d.GetProperty("acknowledgedAt").ValueKind != JsonValueKind.Null);

        Assert.That(delivery.GetProperty("acknowledgedAt").ValueKind, Is.EqualTo(JsonValueKind.String));
    }

    [Test]
    public async Task ASessionThatClosedStopsCounting()
    {
        var bob = await ConnectAsync("bob");
        await bob.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);
        bob.Dispose();

        var registry = (Infrastructure.WebSockets.WebSocketSessionRegistry)App.Services.GetService(typeof(Infrastructure.WebSockets.WebSocketSessionRegistry))!;
        await Eventually.Until(() => Task.FromResult(registry.Count), count => count == 0);

        using var response = await PostWebhookAsync(TwilioRequests.Body());

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
    }
}
