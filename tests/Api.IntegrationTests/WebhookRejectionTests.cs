using System.Net;
using System.Text;
using CallNotify.Api.IntegrationTests.Support;

namespace CallNotify.Api.IntegrationTests;

/// <summary>SPEC §8, the webhook's rows: forged, malformed and oversized requests.</summary>
[TestFixture(StoreKind.Postgres)]
[TestFixture(StoreKind.Sqlite)]
public sealed class WebhookRejectionTests(StoreKind store) : ApiFixture(store)
{
    [Test]
    public async Task Returns403WithoutSignature()
    {
        await RegisterAsync();
        var body = Encoding.UTF8.GetBytes(TwilioRequests.Body());
        using var request = TwilioRequests.SignedRequest(App.BaseAddress, body);
        request.Headers.Remove("X-Twilio-Signature");

        using var response = await Anonymous.SendAsync(request);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
    }

    [Test]
    public async Task Returns403ForASignatureMadeWithAnotherToken()
    {
        await RegisterAsync();

        using var response = await PostWebhookAsync(TwilioRequests.Body(), authToken: "not-the-auth-token");

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
    }

    [Test]
    public async Task Returns403ForATamperedBody()
    {
        await RegisterAsync(identity: "mallory");
        var body = Encoding.UTF8.GetBytes(TwilioRequests.Body(to: "client:bob"));
        using var request = TwilioRequests.SignedRequest(App.BaseAddress, body);
        request.Content = new ByteArrayContent(Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(body).Replace("client:bob", "client:mallory", StringComparison.Ordinal)));

        using var response = await Anonymous.SendAsync(request);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
    }

    [Test]
    public async Task Returns403ForAWrongBodyHash()
    {
        await RegisterAsync();
        var body = Encoding.UTF8.GetBytes(TwilioRequests.Body());
        var url = new Uri(App.BaseAddress, "/calls/notificationWebhook") + "?bodySHA256=" + new string('0', 64);
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(body) };
        request.Headers.Add("X-Twilio-Signature", TwilioRequests.Sign(CallNotifyApp.AuthToken, url));

        using var response = await Anonymous.SendAsync(request);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
    }

    [Test]
    public async Task Returns403ForAnAccountThatIsNotConfigured()
    {
        using var response = await PostWebhookAsync(TwilioRequests.Body(accountSid: CallNotifyApp.UnconfiguredAccountSid));

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
    }

    [Test]
    public async Task Returns403WhenOneAccountSignsABodyNamingAnother()
    {
        await RegisterAsync(accountSid: CallNotifyApp.OtherAccountSid);

        using var response = await PostWebhookAsync(TwilioRequests.Body(accountSid: CallNotifyApp.OtherAccountSid), authToken: CallNotifyApp.AuthToken);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
    }

    [TestCase("not json", "body")]
    [TestCase("[1,2,3]", "body")]
    [TestCase("42", "body")]
    [TestCase("{\"twi_account_sid\":\"AC11111111111111111111111111111111\"} trailing", "body")]
    [TestCase("{\"twi_account_sid\":\"AC11111111111111111111111111111111\",\"twi_call_sid\":\"CA1\",\"twi_message_type\":\"twilio.voice.call\",\"twi_to\":\"client:bob\"}", "twi_message_id")]
    [TestCase("{\"twi_account_sid\":\"AC11111111111111111111111111111111\",\"twi_call_sid\":\"CA1\",\"twi_message_id\":\"WB1\",\"twi_message_type\":\"twilio.voice.call\",\"twi_to\":42}", "twi_to")]
    [TestCase("{\"twi_account_sid\":\"AC11111111111111111111111111111111\",\"twi_call_sid\":\"CA1\",\"twi_message_id\":\"WB1\",\"twi_message_type\":\"twilio.voice.call\",\"twi_to\":\"bob\"}", "twi_to")]
    [TestCase("{\"twi_account_sid\":\"AC11111111111111111111111111111111\",\"twi_call_sid\":\"CA1\",\"twi_message_id\":\"WB1\",\"twi_message_type\":\"twilio.voice.call\",\"twi_to\":\"client:\"}", "twi_to")]
    [TestCase("{\"twi_account_sid\":null,\"twi_call_sid\":\"CA1\",\"twi_message_id\":\"WB1\",\"twi_message_type\":\"twilio.voice.call\",\"twi_to\":\"client:bob\"}", "twi_account_sid")]
    public async Task Returns400NamingTheFieldForABodyThatIsNotACallNotification(string body, string field)
    {
        using var response = await PostWebhookAsync(body);
        var problem = await response.Content.ReadAsStringAsync();

        using (Assert.EnterMultipleScope())
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
            Assert.That(problem, Does.Contain($"\"{field}\""));
        }
    }

    /// <summary>
    /// Found by HostileInputTests: a stored field holding U+0000 (escaped in the JSON) made PostgreSQL fail the record
    /// or the lookup of the message id, answered 503. The callee is connected, so the notification would be recorded.
    /// </summary>
    [TestCase("twi_call_sid")]
    [TestCase("twi_message_id")]
    [TestCase("twi_message_type")]
    [TestCase("twi_from")]
    public async Task Returns400NamingAStoredFieldThatHoldsANulCharacter(string field)
    {
        using var bob = await ConnectAsync("bob");
        var body = TwilioRequests.Body().Replace($"\"{field}\":\"", $"\"{field}\":\"\\u0000", StringComparison.Ordinal);
        Assert.That(body, Does.Contain("\\u0000"));

        using var response = await PostWebhookAsync(body);
        var problem = await response.Content.ReadAsStringAsync();

        using (Assert.EnterMultipleScope())
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
            Assert.That(problem, Does.Contain($"\"{field}\""));
        }
    }

    [Test]
    public async Task Returns400ForDeepNesting()
    {
        var body = "{\"twi_account_sid\":\"AC11111111111111111111111111111111\",\"x\":" + new string('[', 5000) + new string(']', 5000) + "}";

        using var response = await PostWebhookAsync(body);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
    }

    [Test]
    public async Task Returns400ForAnIdentityOver256Characters()
    {
        using var response = await PostWebhookAsync(TwilioRequests.Body(to: "client:" + new string('b', 257)));

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
    }

    [Test]
    public async Task Returns413ForABodyOver64KiB()
    {
        var padding = new string('x', 64 * 1024);
        var body = TwilioRequests.Body().TrimEnd('}') + ",\"pad\":\"" + padding + "\"}";

        using var response = await PostWebhookAsync(body);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.RequestEntityTooLarge));
    }

    [Test]
    public async Task Accepts64KiBExactly()
    {
        await RegisterAsync(channel: "fcm");
        var body = TwilioRequests.Body().TrimEnd('}') + ",\"pad\":\"\"}";
        body = body.Insert(body.Length - 2, new string('x', (64 * 1024) - Encoding.UTF8.GetByteCount(body)));
        Assert.That(Encoding.UTF8.GetByteCount(body), Is.EqualTo(64 * 1024));

        using var response = await PostWebhookAsync(body);

        // Signed and well-formed: past the size check, to the channel decision (FCM is not configured here).
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.ServiceUnavailable));
    }
}
