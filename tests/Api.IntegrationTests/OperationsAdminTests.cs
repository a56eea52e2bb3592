using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using CallNotify.Api.IntegrationTests.Support;

namespace CallNotify.Api.IntegrationTests;

/// <summary>What the console reads and does through the admin API (SPEC §7), and how the console itself is served.</summary>
[TestFixture(StoreKind.Sqlite)]
[TestFixture(StoreKind.Postgres)]
public sealed class OperationsAdminTests(StoreKind store) : ApiFixture(store)
{
    [Test]
    public async Task TheOverviewShowsTheStoreChannelsSessionsAndRecentAnswers()
    {
        var identity = "ops-" + Guid.NewGuid().ToString("N")[..8];
        using var client = await ConnectAsync(identity);
        using (await PostWebhookAsync(TwilioRequests.Body(to: "client:" + identity)))
        using (await PostWebhookAsync(TwilioRequests.Body(to: "client:nobody-" + identity)))
        {
        }

        var overview = await Eventually.Until(
            async () => await Admin.GetFromJsonAsync<JsonElement>("/admin/v1/overview"),
            o => o.GetProperty("deliveries").EnumerateArray().Any(d => d.GetProperty("channel").GetString() == "websocket"));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(overview.GetProperty("store").GetProperty("provider").GetString(), Is.EqualTo(StoreKind == StoreKind.Postgres ? "postgres" : "sqlite"));
            Assert.That(overview.GetProperty("store").GetProperty("reachable").GetBoolean(), Is.True);
            Assert.That(overview.GetProperty("store").GetProperty("instancesAlive").GetInt32(), Is.GreaterThanOrEqualTo(1));
            Assert.That(overview.GetProperty("store").GetProperty("liveSessions").GetInt32(), Is.GreaterThanOrEqualTo(1));
            Assert.That(overview.GetProperty("channels").EnumerateArray().Select(c => (c.GetProperty("channel").GetString(), c.GetProperty("enabled").GetBoolean())),
                Does.Contain(("websocket", true)).And.Contain(("fcm", false)));
            Assert.That(overview.GetProperty("webhooks").EnumerateArray().Select(w => w.GetProperty("status").GetInt32()), Does.Contain(200).And.Contain(404));
            Assert.That(overview.GetProperty("windowMinutes").GetInt32(), Is.EqualTo(15));
        }
    }

    [Test]
    public async Task SessionsListsAnIdentitysLiveSessionsWithTheirInstance()
    {
        var identity = "ops-" + Guid.NewGuid().ToString("N")[..8];
        using var first = await ConnectAsync(identity);
        using var second = await WebSocketClients.ConnectAsync(App, identity, expected: 2);

        var sessions = await Admin.GetFromJsonAsync<JsonElement>($"/admin/v1/sessions?accountSid={CallNotifyApp.AccountSid}&identity={identity}");
        using var bad = await Admin.GetAsync($"/admin/v1/sessions?accountSid=AC123&identity={identity}");

        using (Assert.EnterMultipleScope())
        {
            Assert.That(sessions.GetProperty("sessions").GetArrayLength(), Is.EqualTo(2));
            Assert.That(sessions.GetProperty("sessions")[0].GetProperty("instanceId").GetString(), Does.StartWith("IN"));
            Assert.That(bad.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        }
    }

    [Test]
    public async Task ATestCallGoesThroughTheWebhookPathAndItsRecordSaysItWasATest()
    {
        var identity = "ops-" + Guid.NewGuid().ToString("N")[..8];
        using var client = await ConnectAsync(identity);

        using var response = await Admin.PostAsJsonAsync("/admin/v1/test-calls", new { accountSid = CallNotifyApp.AccountSid, identity });
        var answer = await response.Content.ReadFromJsonAsync<JsonElement>();
        var messageId = answer.GetProperty("twiMessageId").GetString()!;
        var frame = await ReceiveFrameAsync(client, TimeSpan.FromSeconds(5));
        var record = await GetNotificationAsync(messageId);
        using var nobody = await Admin.PostAsJsonAsync("/admin/v1/test-calls", new { accountSid = CallNotifyApp.AccountSid, identity = "nobody-" + identity });
        using var unserved = await Admin.PostAsJsonAsync("/admin/v1/test-calls", new { accountSid = CallNotifyApp.UnconfiguredAccountSid, identity });
        using var anonymous = await Anonymous.PostAsJsonAsync("/admin/v1/test-calls", new { accountSid = CallNotifyApp.AccountSid, identity });

        using (Assert.EnterMultipleScope())
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(answer.GetProperty("answer").GetProperty("status").GetInt32(), Is.EqualTo(200));
            Assert.That(frame, Is.Not.Null);
            var body = JsonDocument.Parse(frame!).RootElement;
            Assert.That(body.GetProperty("twi_message_id").GetString(), Is.EqualTo(messageId));
            Assert.That(body.GetProperty("twi_bridge_token").GetString(), Is.EqualTo("callnotify-test-call-placeholder"));
            Assert.That(record.GetProperty("test").GetBoolean(), Is.True);
            Assert.That(record.GetProperty("from").GetString(), Is.EqualTo("client:callnotify-test-call"));
            Assert.That((await nobody.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("answer").GetProperty("status").GetInt32(), Is.EqualTo(404));
            Assert.That(unserved.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
            Assert.That(anonymous.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        }
    }

    [Test]
    public async Task TheConsoleIsServedWithAStrictContentSecurityPolicy()
    {
        using var page = await Anonymous.GetAsync("/console/notifications/AC1/WB1");
        using var script = await Anonymous.GetAsync("/console/console.js");
        var html = await page.Content.ReadAsStringAsync();

        using (Assert.EnterMultipleScope())
        {
            Assert.That(page.StatusCode, Is.EqualTo(HttpStatusCode.OK), "every view's address serves the page");
            Assert.That(page.Content.Headers.ContentType?.MediaType, Is.EqualTo("text/html"));
            var csp = page.Headers.GetValues("Content-Security-Policy").Single();
            Assert.That(csp, Does.Contain("script-src 'self'").And.Contain("frame-ancestors 'none'").And.Not.Contain("unsafe-inline"));
            Assert.That(page.Headers.GetValues("X-Content-Type-Options").Single(), Is.EqualTo("nosniff"));
            Assert.That(html, Does.Not.Contain("<script>"), "no inline script");
            Assert.That(script.Content.Headers.ContentType?.MediaType, Is.EqualTo("text/javascript"));
        }
    }
}
