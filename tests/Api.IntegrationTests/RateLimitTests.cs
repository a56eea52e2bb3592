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
