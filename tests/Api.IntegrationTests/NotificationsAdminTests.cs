using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using CallNotify.Api.IntegrationTests.Support;

namespace CallNotify.Api.IntegrationTests;

[TestFixture(StoreKind.Postgres)]
[TestFixture(StoreKind.Sqlite)]
public sealed class NotificationsAdminTests(StoreKind store) : ApiFixture(store)
{
    [Test]
    public async Task Returns404ForAnUnknownNotification()
    {
        using var response = await Admin.GetAsync($"/admin/v1/notifications/{TwilioRequests.NewMessageId()}?accountSid={CallNotifyApp.AccountSid}");

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
    }

    /// <summary>Found by HostileInputTests: U+0000 reached PostgreSQL in the filter, which failed the query (answered 503).</summary>
    [TestCase("CA%00")]
    [TestCase("CA%01x")]
    public async Task Returns400ForAControlCharacterInTheCallSidFilter(string callSid)
    {
        using var response = await Admin.GetAsync($"/admin/v1/notifications?accountSid={CallNotifyApp.AccountSid}&callSid={callSid}");
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();

        using (Assert.EnterMultipleScope())
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
            Assert.That(problem.GetProperty("errors").TryGetProperty("callSid", out _), Is.True, problem.ToString());
        }
    }

    [Test]
    public async Task ANotificationIsNotVisibleUnderAnotherAccount()
    {
        await RegisterAsync();
        var messageId = TwilioRequests.NewMessageId();
        using var webhook = await PostWebhookAsync(TwilioRequests.Body(messageId: messageId));

        using var response = await Admin.GetAsync($"/admin/v1/notifications/{messageId}?accountSid={CallNotifyApp.OtherAccountSid}");

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
    }

    [Test]
    public async Task EachDeliveryShowsItsHistory()
    {
        await RegisterAsync();
        var messageId = TwilioRequests.NewMessageId();
        using var webhook = await PostWebhookAsync(TwilioRequests.Body(messageId: messageId));

        var events = (await GetNotificationAsync(messageId)).GetProperty("deliveries")[0].GetProperty("events");

        using (Assert.EnterMultipleScope())
        {
            Assert.That(events.GetArrayLength(), Is.EqualTo(1));
            Assert.That(events[0].GetProperty("kind").GetString(), Is.EqualTo("failed"));
            Assert.That(events[0].GetProperty("detail").GetString(), Is.EqualTo("channel-not-configured"));
            Assert.That(events[0].GetProperty("at").GetDateTimeOffset(), Is.EqualTo(DateTimeOffset.UtcNow).Within(TimeSpan.FromMinutes(1)));
        }
    }

    [Test]
    public async Task AWebSocketDeliveryShowsItsAcceptanceThenItsAck()
    {
        using var bob = await ConnectAsync("bob");
        var messageId = TwilioRequests.NewMessageId();
        using var webhook = await PostWebhookAsync(TwilioRequests.Body(messageId: messageId));
        Assert.That(await ReceiveFrameAsync(bob, TimeSpan.FromSeconds(10)), Is.Not.Null);
        var ack = System.Text.Encoding.UTF8.GetBytes($"{{\"type\":\"ack\",\"twi_message_id\":\"{messageId}\"}}");
        await bob.SendAsync(ack, System.Net.WebSockets.WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);

        var events = await Eventually.Until(
            async () => (await GetNotificationAsync(messageId)).GetProperty("deliveries")[0].GetProperty("events"),
            e => e.GetArrayLength() == 2,
            TimeSpan.FromSeconds(10));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(events.EnumerateArray().Select(e => e.GetProperty("kind").GetString()), Is.EqualTo(new[] { "accepted", "acknowledged" }));
            Assert.That(events.EnumerateArray().Select(e => e.GetProperty("detail").ValueKind), Is.All.EqualTo(JsonValueKind.Null));
            Assert.That(events[0].GetProperty("at").GetDateTimeOffset(), Is.LessThanOrEqualTo(events[1].GetProperty("at").GetDateTimeOffset()));
        }
    }

    [Test]
    public async Task ShowsTheNotificationWithItsFields()
    {
        await RegisterAsync();
        var messageId = TwilioRequests.NewMessageId();
        using var webhook = await PostWebhookAsync(TwilioRequests.Body(messageId: messageId, from: "client:alice"));

        var notification = await GetNotificationAsync(messageId);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(notification.GetProperty("twiMessageId").GetString(), Is.EqualTo(messageId));
            Assert.That(notification.GetProperty("accountSid").GetString(), Is.EqualTo(CallNotifyApp.AccountSid));
            Assert.That(notification.GetProperty("callSid").GetString(), Does.StartWith("CA"));
            Assert.That(notification.GetProperty("from").GetString(), Is.EqualTo("client:alice"));
            Assert.That(notification.GetProperty("to").GetString(), Is.EqualTo("client:bob"));
            Assert.That(notification.GetProperty("identity").GetString(), Is.EqualTo("bob"));
            Assert.That(notification.GetProperty("messageType").GetString(), Is.EqualTo("twilio.voice.call"));
            Assert.That(notification.GetProperty("outcome").GetString(), Is.EqualTo("failed"));
            Assert.That(notification.GetProperty("deliveries")[0].GetProperty("attempts").GetInt32(), Is.EqualTo(1));
        }
    }

    [Test]
    public async Task ListsNewestFirstWithPaging()
    {
        await RegisterAsync();
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var messageId = TwilioRequests.NewMessageId();
            ids.Add(messageId);
            using var webhook = await PostWebhookAsync(TwilioRequests.Body(messageId: messageId));

            // Ids order by their millisecond (UUIDv7): the next call comes in a later one.
            var answeredAt = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            Assert.That(await Eventually.TrueAsync(() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() > answeredAt), Is.True);
        }

        var first = await Admin.GetFromJsonAsync<JsonElement>($"/admin/v1/notifications?accountSid={CallNotifyApp.AccountSid}&identity=bob&pageSize=2");
        var token = first.GetProperty("nextPageToken").GetString();
        var second = await Admin.GetFromJsonAsync<JsonElement>($"/admin/v1/notifications?accountSid={CallNotifyApp.AccountSid}&identity=bob&pageSize=2&pageToken={token}");
        var seen = first.GetProperty("notifications").EnumerateArray()
            .Concat(second.GetProperty("notifications").EnumerateArray())
            .Select(n => n.GetProperty("twiMessageId").GetString())
            .ToList();

        using (Assert.EnterMultipleScope())
        {
            Assert.That(token, Is.Not.Null);
            Assert.That(second.GetProperty("nextPageToken").ValueKind, Is.EqualTo(JsonValueKind.Null));
            Assert.That(seen, Is.EqualTo(Enumerable.Reverse(ids).ToList()));
        }
    }
}
