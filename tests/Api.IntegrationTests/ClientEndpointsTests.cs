using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using CallNotify.Api.IntegrationTests.Support;
using CallNotify.Infrastructure.Tests.Channels.Fcm;

namespace CallNotify.Api.IntegrationTests;

/// <summary>
/// The client endpoints (SPEC §6a, issue #16) driven as an app would: Twilio Access Tokens minted with Twilio's own
/// library, real Kestrel, a real store, a fake FCM on loopback, real WebSocket clients.
/// </summary>
[TestFixture(StoreKind.Sqlite)]
[TestFixture(StoreKind.Postgres)]
public sealed class ClientEndpointsTests(StoreKind store) : FakeFcmFixture(store)
{
    protected override IDictionary<string, string?>? Settings
    {
        get
        {
            var settings = FcmSettings();
            foreach (var (key, value) in AccessTokens.Settings())
            {
                settings[key] = value;
            }

            return settings;
        }
    }

    [Test]
    public async Task AnAppRegistersItsDeviceGetsTheCallAndSaysItArrived()
    {
        var identity = NewIdentity();
        var token = AccessTokens.Mint(identity);
        var address = "fcm-token-" + Guid.NewGuid().ToString("N");

        using var created = await SendAsync(HttpMethod.Post, "/v1/registrations", token, new { channel = "fcm", address });
        var binding = await created.Content.ReadFromJsonAsync<JsonElement>();
        using var refreshed = await SendAsync(HttpMethod.Post, "/v1/registrations", token, new { channel = "fcm", address });
        var messageId = TwilioRequests.NewMessageId();
        using var webhook = await PostWebhookAsync(TwilioRequests.Body(to: "client:" + identity, messageId: messageId));
        Fcm.Sends.TryPeek(out var push);
        using var receipt = await SendAsync(HttpMethod.Post, "/v1/receipts", token, new { twi_message_id = messageId, channel = "fcm", address });
        using var again = await SendAsync(HttpMethod.Post, "/v1/receipts", token, new { twi_message_id = messageId, channel = "fcm", address });
        var delivery = (await GetNotificationAsync(messageId)).GetProperty("deliveries")[0];
        var metrics = await Anonymous.GetStringAsync("/metrics");

        using (Assert.EnterMultipleScope())
        {
            Assert.That(created.StatusCode, Is.EqualTo(HttpStatusCode.Created));
            Assert.That(created.Headers.Location?.ToString(), Is.EqualTo("/v1/registrations/" + binding.GetProperty("id").GetString()));
            Assert.That(binding.GetProperty("identity").GetString(), Is.EqualTo(identity));
            Assert.That(binding.GetProperty("accountSid").GetString(), Is.EqualTo(CallNotifyApp.AccountSid));
            Assert.That(refreshed.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(webhook.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(push, Is.Not.Null, "the fake FCM got the push");
            Assert.That(push!.Json().RootElement.GetProperty("message").GetProperty("token").GetString(), Is.EqualTo(address));
            Assert.That(receipt.StatusCode, Is.EqualTo(HttpStatusCode.NoContent));
            Assert.That(again.StatusCode, Is.EqualTo(HttpStatusCode.NoContent), "idempotent");
            Assert.That(delivery.GetProperty("acknowledgedAt").ValueKind, Is.EqualTo(JsonValueKind.String));
            Assert.That(delivery.GetProperty("events").EnumerateArray().Count(e => e.GetProperty("kind").GetString() == "acknowledged"), Is.EqualTo(1));
            Assert.That(metrics, Does.Match("callnotify_receipts_total\\{[^}]*channel=\"fcm\"[^}]*\\} 1\\b"), "one receipt counted");
        }
    }

    [Test]
    public async Task AReceiptForAnotherDeviceOrMessageIsNotFound()
    {
        var identity = NewIdentity();
        var token = AccessTokens.Mint(identity);
        var address = "fcm-token-" + Guid.NewGuid().ToString("N");
        using (await SendAsync(HttpMethod.Post, "/v1/registrations", token, new { channel = "fcm", address }))
        {
        }

        var messageId = TwilioRequests.NewMessageId();
        using (await PostWebhookAsync(TwilioRequests.Body(to: "client:" + identity, messageId: messageId)))
        {
        }

        var stranger = AccessTokens.Mint(NewIdentity());
        using var otherMessage = await SendAsync(HttpMethod.Post, "/v1/receipts", token, new { twi_message_id = TwilioRequests.NewMessageId(), channel = "fcm", address });
        using var otherDevice = await SendAsync(HttpMethod.Post, "/v1/receipts", token, new { twi_message_id = messageId, channel = "fcm", address = "fcm-not-this-one" });
        using var otherCaller = await SendAsync(HttpMethod.Post, "/v1/receipts", stranger, new { twi_message_id = messageId, channel = "fcm", address });
        using var websocket = await SendAsync(HttpMethod.Post, "/v1/receipts", token, new { twi_message_id = messageId, channel = "websocket", address });
        var delivery = (await GetNotificationAsync(messageId)).GetProperty("deliveries")[0];

        using (Assert.EnterMultipleScope())
        {
            Assert.That(otherMessage.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
            Assert.That(otherDevice.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
            Assert.That(otherCaller.StatusCode, Is.EqualTo(HttpStatusCode.NotFound), "another identity's token");
            Assert.That(websocket.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest), "WebSocket clients ack over the socket");
            Assert.That(delivery.GetProperty("acknowledgedAt").ValueKind, Is.EqualTo(JsonValueKind.Null));
        }
    }

    [Test]
    public async Task ACallerSeesAndDeletesOnlyItsOwnBindings()
    {
        var identity = NewIdentity();
        var token = AccessTokens.Mint(identity);
        var otherToken = AccessTokens.Mint(NewIdentity());
        var address = "fcm-token-" + Guid.NewGuid().ToString("N");
        var otherAddress = "fcm-token-" + Guid.NewGuid().ToString("N");
        using var mine = await SendAsync(HttpMethod.Post, "/v1/registrations", token, new { channel = "fcm", address });
        using var theirs = await SendAsync(HttpMethod.Post, "/v1/registrations", otherToken, new { channel = "fcm", address = otherAddress });
        var mineId = (await mine.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString();
        var theirsId = (await theirs.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString();

        using var list = await SendAsync(HttpMethod.Get, "/v1/registrations", token);
        var listed = (await list.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("bindings").EnumerateArray().Select(b => b.GetProperty("id").GetString()).ToList();
        using var getMine = await SendAsync(HttpMethod.Get, "/v1/registrations/" + mineId, token);
        using var getTheirs = await SendAsync(HttpMethod.Get, "/v1/registrations/" + theirsId, token);
        using var deleteTheirs = await SendAsync(HttpMethod.Delete, "/v1/registrations", token, new { channel = "fcm", address = otherAddress });
        using var theirsAfter = await Admin.GetAsync("/admin/v1/bindings/" + theirsId);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(listed, Is.EqualTo(new[] { mineId }));
            Assert.That(getMine.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(getTheirs.StatusCode, Is.EqualTo(HttpStatusCode.NotFound), "never revealed");
            Assert.That(deleteTheirs.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
            Assert.That(theirsAfter.StatusCode, Is.EqualTo(HttpStatusCode.OK), "another identity's binding is never touched");
        }
    }

    [Test]
    public async Task UnregisterMeansTheNextCallFindsNobody()
    {
        var identity = NewIdentity();
        var token = AccessTokens.Mint(identity);
        var address = "fcm-token-" + Guid.NewGuid().ToString("N");
        using (await SendAsync(HttpMethod.Post, "/v1/registrations", token, new { channel = "fcm", address }))
        {
        }

        using var unregistered = await SendAsync(HttpMethod.Delete, "/v1/registrations", token, new { channel = "fcm", address });
        using var again = await SendAsync(HttpMethod.Delete, "/v1/registrations", token, new { channel = "fcm", address });
        using var webhook = await PostWebhookAsync(TwilioRequests.Body(to: "client:" + identity));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(unregistered.StatusCode, Is.EqualTo(HttpStatusCode.NoContent));
            Assert.That(again.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
            Assert.That(webhook.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
            Assert.That(Fcm.Sends, Is.Empty);
        }
    }

    [Test]
    public async Task AWebSocketWithAnAccessTokenReceivesTheExactBodyAndIsClosedAtExpiry()
    {
        var identity = NewIdentity();
        var token = AccessTokens.Mint(identity, validFor: TimeSpan.FromSeconds(3));
        using var client = new ClientWebSocket();
        client.Options.SetRequestHeader("Authorization", "Bearer " + token);
        await client.ConnectAsync(new UriBuilder(App.BaseAddress) { Scheme = "ws", Path = "/v1/websocket" }.Uri, CancellationToken.None);
        await App.WaitForSessionsAsync(CallNotifyApp.AccountSid, identity, 1);
        var body = TwilioRequests.Body(to: "client:" + identity) + "\n";

        using var webhook = await PostWebhookAsync(body);
        var frame = await ReceiveFrameAsync(client, TimeSpan.FromSeconds(5));
        var closed = await WebSocketClients.WaitForCloseAsync(client);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(webhook.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(frame, Is.EqualTo(Encoding.UTF8.GetBytes(body)), "byte for byte");
            Assert.That(closed, Is.EqualTo((WebSocketCloseStatus.PolicyViolation, "token-expired")));
        }
    }

    [Test]
    public async Task ATokenFromBeforeTheSignOutIsRefused()
    {
        var identity = NewIdentity();
        var token = AccessTokens.Mint(identity);
        using (var signOut = await Admin.DeleteAsync($"/admin/v1/bindings?accountSid={CallNotifyApp.AccountSid}&identity={identity}"))
        {
            Assert.That(signOut.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        }

        using var refused = await SendAsync(HttpMethod.Get, "/v1/registrations", token);

        Assert.That(refused.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
    }

    private static IEnumerable<TestCaseData> BadTokens()
    {
        var now = DateTimeOffset.UtcNow;
        yield return new TestCaseData(null).SetArgDisplayNames("missing");
        yield return new TestCaseData("not-a-jwt").SetArgDisplayNames("malformed");
        yield return new TestCaseData(AccessTokens.Forge("""{"alg":"none","typ":"JWT"}""", AccessTokens.Claims("bob"), secret: null)).SetArgDisplayNames("alg none");
        yield return new TestCaseData(AccessTokens.Forge("""{"alg":"RS256","typ":"JWT"}""", AccessTokens.Claims("bob"))).SetArgDisplayNames("RS256");
        yield return new TestCaseData(AccessTokens.Mint("bob", secret: "a-wrong-secret-a-wrong-secret-32!")).SetArgDisplayNames("wrong signature");
        yield return new TestCaseData(AccessTokens.Mint("bob", keySid: "SK99999999999999999999999999999999")).SetArgDisplayNames("unknown API key");
        yield return new TestCaseData(AccessTokens.Mint("bob", accountSid: CallNotifyApp.AccountSid, keySid: AccessTokens.OtherApiKeySid, secret: AccessTokens.OtherApiKeySecret)).SetArgDisplayNames("another account's key");
        yield return new TestCaseData(AccessTokens.Mint("bob", accountSid: CallNotifyApp.UnconfiguredAccountSid)).SetArgDisplayNames("account not served");
        yield return new TestCaseData(AccessTokens.Forge(AccessTokens.Hs256Header, AccessTokens.Claims("bob", exp: now.AddSeconds(-61).ToUnixTimeSeconds()))).SetArgDisplayNames("expired beyond the skew");
        yield return new TestCaseData(AccessTokens.Mint("bob", validFor: TimeSpan.FromMinutes(-5))).SetArgDisplayNames("expired (minted by Twilio's library)");
        yield return new TestCaseData(AccessTokens.Mint("bob", notBefore: DateTime.UtcNow.AddMinutes(5))).SetArgDisplayNames("not yet valid");
        yield return new TestCaseData(AccessTokens.Forge(AccessTokens.Hs256Header, AccessTokens.Claims("bob").Replace("\"identity\":\"bob\",", string.Empty, StringComparison.Ordinal))).SetArgDisplayNames("no identity");
        yield return new TestCaseData(AccessTokens.Forge(AccessTokens.Hs256Header, AccessTokens.Claims(new string('x', 257)))).SetArgDisplayNames("identity too long");
        var good = AccessTokens.Mint("bob").Split('.');
        var tampered = Encoding.UTF8.GetString(System.Buffers.Text.Base64Url.DecodeFromChars(good[1])).Replace("\"bob\"", "\"eve\"", StringComparison.Ordinal);
        yield return new TestCaseData(good[0] + "." + System.Buffers.Text.Base64Url.EncodeToString(Encoding.UTF8.GetBytes(tampered)) + "." + good[2]).SetArgDisplayNames("tampered");
    }

    [TestCaseSource(nameof(BadTokens))]
    public async Task ABadTokenIs401AndWritesNothing(string? token)
    {
        using var register = await SendAsync(HttpMethod.Post, "/v1/registrations", token, new { channel = "fcm", address = "fcm-" + Guid.NewGuid().ToString("N") });
        using var list = await SendAsync(HttpMethod.Get, "/v1/registrations", token);
        using var bindings = await Admin.GetAsync($"/admin/v1/bindings?accountSid={CallNotifyApp.AccountSid}");
        var written = (await bindings.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("bindings").GetArrayLength();

        using (Assert.EnterMultipleScope())
        {
            Assert.That(register.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
            Assert.That(register.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/problem+json"));
            Assert.That(list.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
            Assert.That(written, Is.Zero, "nothing written");
            Assert.That(await WebSocketClients.UpgradeStatusAsync(App, token), Is.EqualTo(HttpStatusCode.Unauthorized), "the WebSocket too");
        }
    }

    [TestCase(false, true)]
    [TestCase(true, false)]
    public async Task AValidTokenWithoutIncomingCallsIs403Everywhere(bool voiceGrant, bool incomingAllowed)
    {
        var token = AccessTokens.Mint(NewIdentity(), voiceGrant: voiceGrant, incomingAllowed: incomingAllowed);

        using var register = await SendAsync(HttpMethod.Post, "/v1/registrations", token, new { channel = "fcm", address = "fcm-" + Guid.NewGuid().ToString("N") });
        using var receipt = await SendAsync(HttpMethod.Post, "/v1/receipts", token, new { twi_message_id = TwilioRequests.NewMessageId(), channel = "fcm", address = "x" });
        using var list = await SendAsync(HttpMethod.Get, "/v1/registrations", token);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(register.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
            Assert.That(receipt.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
            Assert.That(list.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
            Assert.That(await WebSocketClients.UpgradeStatusAsync(App, token), Is.EqualTo(HttpStatusCode.Forbidden));
        }
    }

    [Test]
    public async Task ATokenJustPastItsExpiryIsStillAcceptedWithinTheSkew()
    {
        var token = AccessTokens.Forge(AccessTokens.Hs256Header, AccessTokens.Claims(NewIdentity(), exp: DateTimeOffset.UtcNow.AddSeconds(-20).ToUnixTimeSeconds()));

        using var list = await SendAsync(HttpMethod.Get, "/v1/registrations", token);

        Assert.That(list.StatusCode, Is.EqualTo(HttpStatusCode.OK));
    }

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? token, object? body = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }

        return await Anonymous.SendAsync(request);
    }

    private static string NewIdentity() => "app-" + Guid.NewGuid().ToString("N")[..10];
}
