using System.Net;
using System.Net.WebSockets;
using CallNotify.Api.IntegrationTests.Support;

namespace CallNotify.Api.IntegrationTests;

/// <summary>Per-IP limits answer 429 with Retry-After; signed webhooks are never throttled.</summary>
[TestFixture(StoreKind.Sqlite)]
public sealed class RateLimitTests(StoreKind store) : ApiFixture(store)
{
    protected override IDictionary<string, string?>? Settings => new Dictionary<string, string?>
    {
        ["RateLimits:AdminPermitsPerMinute"] = "30",
        ["RateLimits:WebSocketUpgradesPerMinute"] = "3",
        ["RateLimits:FailedSignaturesPerMinute"] = "3",
    };

    [Test]
    public async Task ForgedWebhooksBeyondTheLimitGet429WhileSignedOnesStillGetThrough()
    {
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 5; i++)
        {
            using var forged = await PostWebhookAsync(TwilioRequests.Body(), authToken: "forged-token");
            statuses.Add(forged.StatusCode);
        }

        using var signed = await PostWebhookAsync(TwilioRequests.Body(to: "client:nobody"));
        using var lastForged = await PostWebhookAsync(TwilioRequests.Body(), authToken: "forged-token");

        using (Assert.EnterMultipleScope())
        {
            Assert.That(statuses, Is.EqualTo(new[] { HttpStatusCode.Forbidden, HttpStatusCode.Forbidden, HttpStatusCode.Forbidden, HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests }));
            Assert.That(signed.StatusCode, Is.EqualTo(HttpStatusCode.NotFound), "a signed request is judged on its merits");
            Assert.That(lastForged.Headers.RetryAfter, Is.Not.Null);
        }
    }

    [Test]
    public async Task WebSocketUpgradesBeyondTheLimitGet429()
    {
        var token = await IssueTokenAsync("bob");
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 4; i++)
        {
            using var socket = new ClientWebSocket();
            socket.Options.CollectHttpResponseDetails = true;
            try
            {
                await socket.ConnectAsync(new UriBuilder(App.BaseAddress) { Scheme = "ws", Path = "/v1/websocket", Query = "token=" + Uri.EscapeDataString(token) }.Uri, CancellationToken.None);
                statuses.Add(socket.HttpStatusCode);
                await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
            }
            catch (WebSocketException)
            {
                statuses.Add(socket.HttpStatusCode);
            }
        }

        Assert.That(statuses[3], Is.EqualTo(HttpStatusCode.TooManyRequests));
    }
}

/// <summary>The admin limit, in a fixture of its own: spending it would starve the other tests' admin calls.</summary>
[TestFixture(StoreKind.Sqlite)]
public sealed class AdminRateLimitTests(StoreKind store) : ApiFixture(store)
{
    protected override IDictionary<string, string?>? Settings => new Dictionary<string, string?>
    {
        ["RateLimits:AdminPermitsPerMinute"] = "30",
    };

    [Test]
    public async Task AdminCallsBeyondTheLimitGet429WithRetryAfter()
    {
        HttpResponseMessage? rejected = null;
        for (var i = 0; i < 40 && rejected is null; i++)
        {
            var response = await Admin.GetAsync("/admin/v1/bindings");
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                rejected = response;
            }
            else
            {
                response.Dispose();
            }
        }

        using (rejected)
        using (Assert.EnterMultipleScope())
        {
            Assert.That(rejected, Is.Not.Null, "no 429 after 40 admin calls with a limit of 30 a minute");
            Assert.That(rejected?.Headers.RetryAfter, Is.Not.Null);
            Assert.That(rejected?.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/problem+json"));
        }
    }
}

/// <summary>
/// Issue #15: failed admin authentications are counted per client and, past the limit, answered 429 before any key is
/// compared, even the right one; another client (told apart by a trusted proxy's X-Forwarded-For) is not affected.
/// </summary>
[TestFixture(StoreKind.Sqlite)]
public sealed class FailedAdminAuthTests(StoreKind store) : ApiFixture(store)
{
    protected override IDictionary<string, string?>? Settings => new Dictionary<string, string?>
    {
        ["RateLimits:FailedAdminAuthPerMinute"] = "3",
        ["ForwardedHeaders:KnownProxies:0"] = "127.0.0.1",
    };

    [Test]
    public async Task KeyGuessingIsThrottledBeforeAnyKeyIsCompared()
    {
        var guesser = "203.0.113.10";
        var statuses = new List<HttpStatusCode>();
        foreach (var key in (string?[])["wrong-key-0000000000000001", null, "wrong-key-0000000000000002", "wrong-key-0000000000000003"])
        {
            using var response = await AdminCallAsync(guesser, key);
            statuses.Add(response.StatusCode);
        }

        using var rightKeyFromTheGuesser = await AdminCallAsync(guesser, CallNotifyApp.AdminKey);
        using var otherClient = await AdminCallAsync("203.0.113.11", CallNotifyApp.AdminKey);
        using var otherClientWrongKey = await AdminCallAsync("203.0.113.11", "wrong-key-0000000000000004");

        using (Assert.EnterMultipleScope())
        {
            Assert.That(statuses, Is.EqualTo(new[] { HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.TooManyRequests }),
                "a wrong key and no key count alike; the fourth failure is refused");
            Assert.That(rightKeyFromTheGuesser.StatusCode, Is.EqualTo(HttpStatusCode.TooManyRequests), "refused before the key is looked at");
            Assert.That(rightKeyFromTheGuesser.Headers.RetryAfter, Is.Not.Null);
            Assert.That(rightKeyFromTheGuesser.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/problem+json"));
            Assert.That(otherClient.StatusCode, Is.EqualTo(HttpStatusCode.OK), "another client keeps its own count");
            Assert.That(otherClientWrongKey.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        }
    }

    private async Task<HttpResponseMessage> AdminCallAsync(string client, string? key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/admin/v1/bindings");
        request.Headers.Add("X-Forwarded-For", client);
        if (key is not null)
        {
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
        }

        return await Anonymous.SendAsync(request);
    }
}
