using System.Net;
using CallNotify.Api.IntegrationTests.Support;

namespace CallNotify.Api.IntegrationTests;

/// <summary>
/// Issue #15: <c>X-Forwarded-For</c> names the client only when it comes from a sender in
/// <c>ForwardedHeaders:KnownProxies</c> or <c>:KnownNetworks</c>; with both empty it is ignored. The failed-signature limit
/// (3 a minute here) keys on the client so found, over real Kestrel on loopback (the test's own address is 127.0.0.1).
/// </summary>
public sealed class ForwardedHeadersTests
{
    private TestStore _store = null!;

    [SetUp]
    public async Task CreateStoreAsync() => _store = await TestStore.CreateAsync(StoreKind.Sqlite);

    [TearDown]
    public async Task DropStoreAsync() => await _store.DisposeAsync();

    [Test]
    public async Task WithNoTrustedSenderAChangedForwardedForGetsNoFreshQuota()
    {
        var statuses = await ForgeAsync(new Dictionary<string, string?>(), ["203.0.113.1", "203.0.113.1", "203.0.113.1", "203.0.113.2", "198.51.100.7"]);

        Assert.That(statuses, Is.EqualTo(new[]
        {
            HttpStatusCode.Forbidden, HttpStatusCode.Forbidden, HttpStatusCode.Forbidden,
            HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests,
        }), "all five count against the real sender, 127.0.0.1");
    }

    [TestCase("ForwardedHeaders:KnownProxies:0", "127.0.0.1")]
    [TestCase("ForwardedHeaders:KnownNetworks:0", "127.0.0.0/8")]
    public async Task FromATrustedSenderForwardedForIsTheClient(string key, string value)
    {
        var statuses = await ForgeAsync(
            new Dictionary<string, string?> { [key] = value },
            ["203.0.113.1", "203.0.113.1", "203.0.113.1", "203.0.113.1", "203.0.113.2"]);

        Assert.That(statuses, Is.EqualTo(new[]
        {
            HttpStatusCode.Forbidden, HttpStatusCode.Forbidden, HttpStatusCode.Forbidden,
            HttpStatusCode.TooManyRequests, HttpStatusCode.Forbidden,
        }), "203.0.113.1 is throttled after three; 203.0.113.2 is another client");
    }

    [TestCase("ForwardedHeaders:KnownProxies:0", "not-an-address")]
    [TestCase("ForwardedHeaders:KnownNetworks:0", "10.0.0.0/33")]
    public void RefusesToStartWithABadEntry(string key, string value)
    {
        using var app = new CallNotifyApp(_store, new Dictionary<string, string?> { [key] = value });

        var error = Assert.Catch(() => app.StartServer());

        Assert.That(error!.ToString(), Does.Contain(key));
    }

    /// <summary>Posts a badly signed webhook once per forwarded address given, in order; the statuses answered.</summary>
    private async Task<HttpStatusCode[]> ForgeAsync(Dictionary<string, string?> settings, string[] forwardedFor)
    {
        settings["RateLimits:FailedSignaturesPerMinute"] = "3";
        await using var app = new CallNotifyApp(_store, settings);
        using var client = app.CreateClient();
        var statuses = new List<HttpStatusCode>();
        foreach (var address in forwardedFor)
        {
            using var request = TwilioRequests.SignedRequest(app.BaseAddress, TwilioRequests.Body(), "forged-token");
            request.Headers.Add("X-Forwarded-For", address);
            using var response = await client.SendAsync(request);
            statuses.Add(response.StatusCode);
        }

        return [.. statuses];
    }
}
