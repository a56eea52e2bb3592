using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using CallNotify.Api.IntegrationTests.Support;
using CallNotify.Application.Common.Ports;
using CallNotify.Domain.Common;
using Microsoft.Extensions.DependencyInjection;

namespace CallNotify.Api.IntegrationTests;

/// <summary>
/// SPEC §8, row by row: every kind of bad input has a test here or where named below. Generated hostile input of
/// every kind (no 5xx, ever) is in <see cref="HostileInputTests"/>.
/// <list type="table">
/// <item><term>no or wrong <c>X-Twilio-Signature</c>, tampered body, wrong <c>bodySHA256</c> → 403</term>
///   <description><see cref="WebhookRejectionTests"/> (no signature, another token, tampered body, zeros for the hash);
///   here: <see cref="Returns403ForAWrongBodySha256"/>, <see cref="Returns403ForASignatureThatIsNotExactlyTheBase64OfTheHmac"/>.</description></item>
/// <item><term>account not configured → 403</term>
///   <description><see cref="WebhookRejectionTests"/> (unconfigured account; one account signing for another).</description></item>
/// <item><term>not JSON, JSON array/number, deep nesting, missing or non-string required field, <c>twi_to</c> without <c>client:</c> → 400</term>
///   <description><see cref="WebhookRejectionTests"/> (not JSON, array, number, trailing data, 5,000 levels, identity over 256);
///   here: <see cref="Returns400ForABodyThatIsNoJsonObject"/>, <see cref="Returns400NamingARequiredFieldThatIsMissingOrNotAString"/>,
///   <see cref="Returns400ForATwiToThatIsNotAClient"/>, <see cref="Returns400ForNestingTenThousandLevelsDeep"/>.</description></item>
/// <item><term>body over 64 KiB → 413</term>
///   <description><see cref="WebhookRejectionTests"/> (with Content-Length; exactly 64 KiB passes);
///   here: <see cref="Returns413ForABodyOver64KiBSentInChunks"/>, <see cref="Returns413ForABodyOver64KiBEvenUnsigned"/>.</description></item>
/// <item><term>callee with no active binding or session → 404</term>
///   <description><see cref="WebhookTests"/> (only another identity; a closed session), <see cref="FcmDeliveryTests"/> (a deactivated
///   binding); here: <see cref="Returns404WhenOnlyAnotherAccountHasAClientOfThatIdentity"/>.</description></item>
/// <item><term>the same <c>twi_message_id</c> again → the first outcome, nothing re-sent</term>
///   <description><see cref="WebhookTests"/> (200 and 503 repeats), <see cref="ExactlyOnceTests"/> (a storm across two instances).</description></item>
/// <item><term>admin call without or with a wrong key → 401</term>
///   <description>here: <see cref="EveryAdminEndpointAnswers401WithoutAValidKeyAndChangesNothing"/>, every endpoint, every way of getting it wrong.</description></item>
/// <item><term>binding with unknown channel, empty or over-long address, malformed Account SID, identity over 256 → 400</term>
///   <description><see cref="BindingsAdminTests"/>; here for each channel: <see cref="Returns400NamingTheFieldOfAnInvalidBindingOnEveryChannel"/>,
///   <see cref="Returns400ForAnUnknownChannel"/>, and the limits themselves accepted: <see cref="AcceptsTheLongestAddressAndIdentityOnEveryChannel"/>.</description></item>
/// <item><term>WebSocket upgrade with a bad token → 401</term>
///   <description><see cref="WebSocketAuthTests"/> (missing, forged, changed MAC); here: <see cref="RefusesTheUpgradeWith401ForABadToken"/>
///   (expired, another key, as a Bearer header).</description></item>
/// <item><term>the store down → 503 (webhook, admin, <c>/readyz</c>), nothing lost</term>
///   <description><see cref="StoreOutageTests"/>.</description></item>
/// </list>
/// </summary>
[TestFixture(StoreKind.Postgres)]
[TestFixture(StoreKind.Sqlite)]
public sealed class BadInputTests(StoreKind store) : ApiFixture(store)
{
    // The table below makes hundreds of admin calls with no key or a wrong one on purpose (FailedAdminAuthTests
    // covers their throttling).
    protected override IDictionary<string, string?>? Settings => new Dictionary<string, string?>
    {
        ["RateLimits:FailedAdminAuthPerMinute"] = "1000000",
    };

    private static readonly string[] RequiredFields = ["twi_account_sid", "twi_call_sid", "twi_message_id", "twi_message_type", "twi_to"];

    // ---------------------------------------------------------------- 403: the signature

    [TestCase("missing")]
    [TestCase("empty")]
    [TestCase("upper-case hex")]
    [TestCase("of another body")]
    [TestCase("given twice")]
    [TestCase("cut short")]
    public async Task Returns403ForAWrongBodySha256(string variant)
    {
        await RegisterAsync();
        var body = Encoding.UTF8.GetBytes(TwilioRequests.Body());
        var hash = Convert.ToHexStringLower(SHA256.HashData(body));
        var query = variant switch
        {
            "missing" => string.Empty,
            "empty" => "?bodySHA256=",
            "upper-case hex" => "?bodySHA256=" + hash.ToUpperInvariant(),
            "of another body" => "?bodySHA256=" + Convert.ToHexStringLower(SHA256.HashData([.. body, (byte)' '])),
            "given twice" => $"?bodySHA256={hash}&bodySHA256={hash}",
            _ => "?bodySHA256=" + hash[..63],
        };

        // The URL itself is signed correctly: only the body's hash is wrong.
        var url = new Uri(App.BaseAddress, "/calls/notificationWebhook") + query;
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(body) };
        request.Headers.Add("X-Twilio-Signature", TwilioRequests.Sign(CallNotifyApp.AuthToken, url));

        using var response = await Anonymous.SendAsync(request);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
    }

    /// <summary>The header must equal the Base64 of the HMAC; decoding leniently let these through before.</summary>
    [TestCase("space inside")]
    [TestCase("other padding bits")]
    [TestCase("no padding")]
    [TestCase("Base64url alphabet")]
    public async Task Returns403ForASignatureThatIsNotExactlyTheBase64OfTheHmac(string variant)
    {
        using var bob = await ConnectAsync("bob");
        HttpRequestMessage request;
        string signature, changed;
        do
        {
            // A fresh body (new ids) until the signature has a character to write otherwise ('+' or '/' for Base64url).
            request = TwilioRequests.SignedRequest(App.BaseAddress, Encoding.UTF8.GetBytes(TwilioRequests.Body()));
            signature = request.Headers.GetValues("X-Twilio-Signature").Single();
            changed = variant switch
            {
                "space inside" => signature.Insert(10, " "),
                "other padding bits" => signature[..26] + NextWithSameBytes(signature[26]) + "=",
                "no padding" => signature.TrimEnd('='),
                _ => signature.Replace('+', '-').Replace('/', '_'),
            };
        }
        while (changed == signature);

        using var disposeRequest = request;
        request.Headers.Remove("X-Twilio-Signature");
        request.Headers.TryAddWithoutValidation("X-Twilio-Signature", changed);

        using var response = await Anonymous.SendAsync(request);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
    }

    /// <summary>The Base64 character that differs from <paramref name="c"/> in the two low bits only (unused at the end of 20 bytes).</summary>
    private static char NextWithSameBytes(char c)
    {
        const string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        return alphabet[alphabet.IndexOf(c, StringComparison.Ordinal) ^ 1];
    }

    // ---------------------------------------------------------------- 400: the shape

    [TestCase("\"a string\"")]
    [TestCase("null")]
    [TestCase("true")]
    [TestCase("")]
    [TestCase("[{\"twi_to\":\"client:bob\"}]")]
    [TestCase("{\"twi_to\":\"client:bob\"")]
    public async Task Returns400ForABodyThatIsNoJsonObject(string body)
    {
        using var response = await PostWebhookAsync(body);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();

        using (Assert.EnterMultipleScope())
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
            Assert.That(problem.GetProperty("errors").TryGetProperty("body", out _), Is.True, problem.ToString());
        }
    }

    private static IEnumerable<TestCaseData> MissingOrNotAString() =>
        from field in RequiredFields
        from value in new string?[] { null, "42", "true", "null", "[\"client:bob\"]", "{\"v\":\"client:bob\"}" }
        select new TestCaseData(field, value).SetArgDisplayNames(field, value ?? "missing");

    [TestCaseSource(nameof(MissingOrNotAString))]
    public async Task Returns400NamingARequiredFieldThatIsMissingOrNotAString(string field, string? value)
    {
        await RegisterAsync(identity: "bob");
        var body = WithField(TwilioRequests.Body(), field, value);

        using var response = await PostWebhookAsync(body);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();

        using (Assert.EnterMultipleScope())
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
            Assert.That(problem.GetProperty("errors").TryGetProperty(field, out _), Is.True, problem.ToString());
        }
    }

    [TestCase("bob")]
    [TestCase("Client:bob")]
    [TestCase("CLIENT:bob")]
    [TestCase(" client:bob")]
    [TestCase("client bob")]
    [TestCase("sip:bob@example.com")]
    [TestCase("+15551234567")]
    [TestCase("client:")]
    [TestCase("client:b\\u0000b")]
    public async Task Returns400ForATwiToThatIsNotAClient(string to)
    {
        await RegisterAsync(identity: "bob");

        using var response = await PostWebhookAsync(WithField(TwilioRequests.Body(), "twi_to", "\"" + to + "\""));
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();

        using (Assert.EnterMultipleScope())
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
            Assert.That(problem.GetProperty("errors").TryGetProperty("twi_to", out _), Is.True, problem.ToString());
        }
    }

    [TestCase("[", "]")]
    [TestCase("{\"a\":", "}")]
    public async Task Returns400ForNestingTenThousandLevelsDeep(string open, string close)
    {
        var deep = string.Concat(Enumerable.Repeat(open, 10_000)) + "1" + string.Concat(Enumerable.Repeat(close, 10_000));

        using var asTheBody = await PostWebhookAsync(deep);
        using var inAField = await PostWebhookAsync(TwilioRequests.Body().TrimEnd('}') + ",\"deep\":" + deep + "}");

        using (Assert.EnterMultipleScope())
        {
            Assert.That(asTheBody.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
            Assert.That(inAField.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        }
    }

    // ---------------------------------------------------------------- 413

    [Test]
    public async Task Returns413ForABodyOver64KiBSentInChunks()
    {
        await RegisterAsync();
        var body = Encoding.UTF8.GetBytes(TwilioRequests.Body().TrimEnd('}') + ",\"pad\":\"" + new string('x', 64 * 1024) + "\"}");
        using var request = TwilioRequests.SignedRequest(App.BaseAddress, body);

        // No Content-Length: the limit must hold while reading, not only on the header.
        request.Content = new StreamContent(new UnknownLengthStream(body));
        request.Headers.TransferEncodingChunked = true;
        using var response = await Anonymous.SendAsync(request);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.RequestEntityTooLarge));
    }

    [Test]
    public async Task Returns413ForABodyOver64KiBEvenUnsigned()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/calls/notificationWebhook")
        {
            Content = new ByteArrayContent(new byte[(64 * 1024) + 1]),
        };

        using var response = await Anonymous.SendAsync(request);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.RequestEntityTooLarge));
    }

    // ---------------------------------------------------------------- 404

    [Test]
    public async Task Returns404WhenOnlyAnotherAccountHasAClientOfThatIdentity()
    {
        await RegisterAsync(identity: "bob", accountSid: CallNotifyApp.OtherAccountSid);
        using var otherBob = await ConnectAsync("bob", CallNotifyApp.OtherAccountSid);

        using var response = await PostWebhookAsync(TwilioRequests.Body(to: "client:bob"));
        var frame = await ReceiveFrameAsync(otherBob, TimeSpan.FromMilliseconds(300));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
            Assert.That(frame, Is.Null, "another account's client must never get the call");
        }
    }

    // ---------------------------------------------------------------- 401: the admin API

    private static readonly (string Method, string Path, string? Body)[] AdminEndpoints =
    [
        ("POST", "/admin/v1/bindings", $"{{\"accountSid\":\"{CallNotifyApp.AccountSid}\",\"identity\":\"bob\",\"channel\":\"fcm\",\"address\":\"new-token\"}}"),
        ("GET", "/admin/v1/bindings", null),
        ("GET", "/admin/v1/bindings/{id}", null),
        ("DELETE", "/admin/v1/bindings/{id}", null),
        ("DELETE", $"/admin/v1/bindings?accountSid={CallNotifyApp.AccountSid}&identity=bob", null),
        ("POST", "/admin/v1/websocket-tokens", $"{{\"accountSid\":\"{CallNotifyApp.AccountSid}\",\"identity\":\"bob\"}}"),
        ("GET", $"/admin/v1/notifications/WB0123456789abcdef0123456789abcdef?accountSid={CallNotifyApp.AccountSid}", null),
        ("GET", "/admin/v1/notifications", null),
    ];

    private static readonly string[] WrongAuthorizations =
    [
        "none",
        "Bearer " + CallNotifyApp.AdminKey + "x",
        "Bearer " + CallNotifyApp.AdminKey[..^1],
        "Bearer " + CallNotifyApp.AdminKey.ToUpperInvariant(),
        "Basic " + CallNotifyApp.AdminKey,
        "Bearer",
        CallNotifyApp.AdminKey,
        "Bearer sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(CallNotifyApp.AdminKey))),
    ];

    private static IEnumerable<TestCaseData> UnauthorizedAdminCalls() =>
        from endpoint in AdminEndpoints
        from authorization in WrongAuthorizations
        select new TestCaseData(endpoint.Method, endpoint.Path, endpoint.Body, authorization)
            .SetArgDisplayNames(endpoint.Method, endpoint.Path, authorization.Replace(CallNotifyApp.AdminKey, "<key>", StringComparison.Ordinal));

    [TestCaseSource(nameof(UnauthorizedAdminCalls))]
    public async Task EveryAdminEndpointAnswers401WithoutAValidKeyAndChangesNothing(string method, string path, string? body, string authorization)
    {
        var binding = await RegisterAsync(identity: "bob", address: "existing-token");
        using var request = new HttpRequestMessage(new HttpMethod(method), path.Replace("{id}", binding.GetProperty("id").GetString(), StringComparison.Ordinal))
        {
            Content = body is null ? null : new StringContent(body, Encoding.UTF8, "application/json"),
        };
        if (authorization != "none")
        {
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }

        using var response = await Anonymous.SendAsync(request);
        var bindings = await Admin.GetFromJsonAsync<JsonElement>("/admin/v1/bindings");

        using (Assert.EnterMultipleScope())
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
            Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/problem+json"));
            Assert.That(await response.Content.ReadAsStringAsync(), Does.Not.Contain("\"token\""), "no WebSocket token is handed out");
            Assert.That(
                bindings.GetProperty("bindings").EnumerateArray().Select(b => b.GetProperty("address").GetString()),
                Is.EqualTo(new[] { "existing-token" }),
                "nothing was written or deleted");
        }
    }

    // ---------------------------------------------------------------- 400: bindings, on every channel

    private static readonly string[] Channels = ["fcm", "apns-voip", "apns"];

    /// <summary>An address valid on the channel (APNs tokens are hexadecimal).</summary>
    private static string AddressFor(string channel, int length = 64) => new(channel == "fcm" ? 'f' : 'a', length);

    private static IEnumerable<TestCaseData> InvalidBindings()
    {
        var invalid = new (string Field, object? Value, string Name)[]
        {
            ("address", string.Empty, "empty address"),
            ("address", new string('a', 4097), "address of 4097"),
            ("address", null, "no address"),
            ("address", "ab cd", "address with a space"),
            ("accountSid", "AC123", "short Account SID"),
            ("accountSid", "AC1111111111111111111111111111111g", "non-hex Account SID"),
            ("accountSid", "CA11111111111111111111111111111111", "call SID as Account SID"),
            ("accountSid", "ac11111111111111111111111111111111", "lower-case AC"),
            ("accountSid", string.Empty, "empty Account SID"),
            ("identity", new string('b', 257), "identity of 257"),
            ("identity", string.Empty, "empty identity"),
            ("identity", "b\u0000b", "identity with NUL"),
        };
        return from channel in Channels
               from bad in invalid
               select new TestCaseData(channel, bad.Field, bad.Value).SetArgDisplayNames(channel, bad.Name);
    }

    [TestCaseSource(nameof(InvalidBindings))]
    public async Task Returns400NamingTheFieldOfAnInvalidBindingOnEveryChannel(string channel, string field, object? value)
    {
        var body = new Dictionary<string, object?>
        {
            ["accountSid"] = CallNotifyApp.AccountSid,
            ["identity"] = "bob",
            ["channel"] = channel,
            ["address"] = AddressFor(channel),
        };
        body[field] = value;

        using var response = await Admin.PostAsJsonAsync("/admin/v1/bindings", body);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        var stored = await Admin.GetFromJsonAsync<JsonElement>("/admin/v1/bindings");

        using (Assert.EnterMultipleScope())
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
            Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/problem+json"));
            Assert.That(problem.GetProperty("errors").TryGetProperty(field, out _), Is.True, problem.ToString());
            Assert.That(stored.GetProperty("bindings").GetArrayLength(), Is.Zero, "nothing was stored");
        }
    }

    [TestCase("sms")]
    [TestCase("websocket")]
    [TestCase("FCM")]
    [TestCase("apns-alert")]
    [TestCase("apns ")]
    [TestCase("")]
    [TestCase(null)]
    public async Task Returns400ForAnUnknownChannel(string? channel)
    {
        using var response = await Admin.PostAsJsonAsync("/admin/v1/bindings", new { accountSid = CallNotifyApp.AccountSid, identity = "bob", channel, address = "abcdef" });
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();

        using (Assert.EnterMultipleScope())
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
            Assert.That(problem.GetProperty("errors").TryGetProperty("channel", out _), Is.True, problem.ToString());
        }
    }

    [TestCaseSource(nameof(Channels))]
    public async Task AcceptsTheLongestAddressAndIdentityOnEveryChannel(string channel)
    {
        using var response = await Admin.PostAsJsonAsync("/admin/v1/bindings", new
        {
            accountSid = CallNotifyApp.AccountSid,
            identity = new string('b', 256),
            channel,
            address = AddressFor(channel, 4096),
        });

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Created), await response.Content.ReadAsStringAsync());
    }

    // ---------------------------------------------------------------- 401: the WebSocket upgrade

    [TestCase("expired")]
    [TestCase("signed with another key")]
    [TestCase("forged, as a Bearer header")]
    [TestCase("empty Bearer header")]
    [TestCase("claims of another token")]
    public async Task RefusesTheUpgradeWith401ForABadToken(string variant)
    {
        var tokens = App.Services.GetRequiredService<IWebSocketTokenService>();
        var account = AccountSid.Parse(CallNotifyApp.AccountSid);
        var bob = ClientIdentity.Parse("bob");
        var valid = tokens.Issue(account, bob, DateTimeOffset.UtcNow.AddHours(1)).Token;
        string? query = null;
        string? header = null;
        switch (variant)
        {
            case "expired":
                query = tokens.Issue(account, bob, DateTimeOffset.UtcNow.AddSeconds(-1)).Token;
                break;
            case "signed with another key":
                var key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
                var other = new Infrastructure.WebSockets.WebSocketTokenService(
                    Microsoft.Extensions.Options.Options.Create(new Infrastructure.Configuration.WebSocketTokenOptions { TokenSigningKey = key }),
                    TimeProvider.System);
                query = other.Issue(account, bob, DateTimeOffset.UtcNow.AddHours(1)).Token;
                break;
            case "forged, as a Bearer header":
                header = "Bearer " + valid[..^4] + "AAAA";
                break;
            case "empty Bearer header":
                header = "Bearer ";
                break;
            default:
                var alice = tokens.Issue(account, ClientIdentity.Parse("alice"), DateTimeOffset.UtcNow.AddHours(1)).Token;
                query = alice[..alice.IndexOf('.', StringComparison.Ordinal)] + valid[valid.IndexOf('.', StringComparison.Ordinal)..];
                break;
        }

        using var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        if (header is not null)
        {
            socket.Options.SetRequestHeader("Authorization", header);
        }

        var uri = new UriBuilder(App.BaseAddress) { Scheme = "ws", Path = "/v1/websocket", Query = query is null ? string.Empty : "token=" + Uri.EscapeDataString(query) }.Uri;
        Assert.That(async () => await socket.ConnectAsync(uri, CancellationToken.None), Throws.InstanceOf<WebSocketException>());
        Assert.That(socket.HttpStatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
    }

    // ---------------------------------------------------------------- helpers

    /// <summary>The body with <paramref name="field"/> removed (<paramref name="value"/> null) or given the raw JSON <paramref name="value"/>.</summary>
    private static string WithField(string body, string field, string? value)
    {
        var members = JsonDocument.Parse(body).RootElement.EnumerateObject()
            .Where(p => p.Name != field)
            .Select(p => JsonSerializer.Serialize(p.Name) + ":" + p.Value.GetRawText())
            .ToList();
        if (value is not null)
        {
            members.Add(JsonSerializer.Serialize(field) + ":" + value);
        }

        return "{" + string.Join(",", members) + "}";
    }

    /// <summary>A stream that does not tell its length, so the client sends it chunked.</summary>
    private sealed class UnknownLengthStream(byte[] bytes) : MemoryStream(bytes)
    {
        public override bool CanSeek => false;

        public override long Length => throw new NotSupportedException();
    }
}
