using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using CallNotify.Api.IntegrationTests.Support;

namespace CallNotify.Api.IntegrationTests;

/// <summary>The client endpoints without an API key configured, and their rate limit (SPEC §2, §6a).</summary>
[TestFixture(StoreKind.Sqlite)]
public sealed class ClientEndpointsConfigurationTests(StoreKind store) : ApiFixture(store)
{
    [Test]
    public async Task WithoutAnApiKeyConfiguredEveryTokenIs401AndTheDetailSaysWhy()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/registrations");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", AccessTokens.Mint("bob"));

        using var response = await Anonymous.SendAsync(request);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();

        using (Assert.EnterMultipleScope())
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
            Assert.That(problem.GetProperty("detail").GetString(), Does.Contain("Twilio:Accounts:N:ApiKeys"));
        }
    }

    [Test]
    public async Task MoreRequestsThanClientPermitsPerMinuteFromOneIdentityGet429WithRetryAfter()
    {
        var settings = AccessTokens.Settings();
        settings["RateLimits:ClientPermitsPerMinute"] = "5";
        await using var app = new CallNotifyApp(Store, settings);
        using var client = app.CreateClient();
        var token = AccessTokens.Mint("limited-" + Guid.NewGuid().ToString("N")[..8]);
        var statuses = new List<HttpStatusCode>();
        string? retryAfter = null;

        for (var i = 0; i < 6; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/registrations");
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            using var response = await client.SendAsync(request);
            statuses.Add(response.StatusCode);
            retryAfter ??= response.Headers.RetryAfter?.ToString();
        }

        using (Assert.EnterMultipleScope())
        {
            Assert.That(statuses.Take(5), Is.All.EqualTo(HttpStatusCode.OK));
            Assert.That(statuses[5], Is.EqualTo(HttpStatusCode.TooManyRequests));
            Assert.That(retryAfter, Is.Not.Null);
        }
    }
}
