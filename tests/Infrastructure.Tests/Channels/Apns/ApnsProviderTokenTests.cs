using CallNotify.Domain.Common;
using CallNotify.Domain.Notifications;
using CallNotify.Infrastructure.Channels.Apns;
using CallNotify.Infrastructure.Tests.Channels.Apns.Support;
using Microsoft.Extensions.Logging;

namespace CallNotify.Infrastructure.Tests.Channels.Apns;

/// <summary>The provider token (ES256 JWT) as APNs sees it: verified by the fake against the team key's public half.</summary>
public sealed class ApnsProviderTokenTests : ApnsWireTestBase
{
    private static readonly FakeReply ExpiredProviderToken = new(403, "ExpiredProviderToken");

    [Test]
    public async Task TheTokenIsSignedWithTheTeamKeyAndIssuedNow()
    {
        var result = await SendAsync(ChannelKind.ApnsVoip);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(result, Is.EqualTo(DeliveryResult.Accepted()), "the fake accepts only a token whose kid, iss and signature verify");
            Assert.That(Server.Requests.Single().Iat, Is.EqualTo(Start.ToUnixTimeSeconds()));
        }
    }

    [Test]
    public async Task ATokenSignedWithAnotherKeyIsACredentialError()
    {
        using var other = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        var otherKey = Keys.WriteFile("other.p8", other.ExportPkcs8PrivateKeyPem());
        Configure(settings => settings["Apns:PrivateKeyFile"] = otherKey);

        var result = await SendAsync(ChannelKind.ApnsVoip);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(result, Is.EqualTo(DeliveryResult.Failed(ApnsSender.CredentialError)));
            Assert.That(Server.Problems, Has.One.Contains("signature"));
            Assert.That(SenderLogs().Select(e => e.Level), Is.EqualTo(new[] { LogLevel.Error }));
        }

        Server.Problems.Clear();
    }

    [Test]
    public async Task OneTokenServesEverySendWithinItsLifetime()
    {
        for (var minute = 0; minute < 40; minute++)
        {
            await SendAsync(minute % 2 == 0 ? ChannelKind.ApnsVoip : ChannelKind.Apns);
            Time.Advance(TimeSpan.FromMinutes(1) - TimeSpan.FromSeconds(1));
        }

        using (Assert.EnterMultipleScope())
        {
            Assert.That(Server.Requests, Has.Count.EqualTo(40));
            Assert.That(DistinctTokens(), Has.Count.EqualTo(1));
        }
    }

    [Test]
    public async Task ANewTokenIsIssuedOnceTheLifetimeHasPassed()
    {
        await SendAsync(ChannelKind.ApnsVoip);
        Time.Advance(TimeSpan.FromMinutes(40) - TimeSpan.FromSeconds(1));
        await SendAsync(ChannelKind.ApnsVoip);
        Time.Advance(TimeSpan.FromSeconds(1));
        await SendAsync(ChannelKind.ApnsVoip);

        var requests = Server.Requests.ToList();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(requests[1].Jwt, Is.EqualTo(requests[0].Jwt));
            Assert.That(requests[2].Jwt, Is.Not.EqualTo(requests[0].Jwt));
            Assert.That(requests[2].Iat, Is.EqualTo(Start.AddMinutes(40).ToUnixTimeSeconds()));
        }
    }

    [Test]
    public async Task TheLifetimeIsConfigurable()
    {
        Configure(settings => settings["Apns:TokenLifetimeMinutes"] = "20");

        await SendAsync(ChannelKind.ApnsVoip);
        Time.Advance(TimeSpan.FromMinutes(19));
        await SendAsync(ChannelKind.ApnsVoip);
        Time.Advance(TimeSpan.FromMinutes(1));
        await SendAsync(ChannelKind.ApnsVoip);

        Assert.That(Server.Requests.Select(r => r.Iat), Is.EqualTo(new long?[]
        {
            Start.ToUnixTimeSeconds(), Start.ToUnixTimeSeconds(), Start.AddMinutes(20).ToUnixTimeSeconds(),
        }));
    }

    [Test]
    public async Task AnExpiredProviderTokenIsRenewedAndTheRequestSentOnceMore()
    {
        string? first = null;
        Server.Respond = (request, _) =>
            Task.FromResult(request.Jwt == (first ??= request.Jwt) ? ExpiredProviderToken : FakeReply.Ok);

        var result = await SendAsync(ChannelKind.Apns);

        var requests = Server.Requests.ToList();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(result, Is.EqualTo(DeliveryResult.Accepted()));
            Assert.That(requests, Has.Count.EqualTo(2));
            Assert.That(DistinctTokens(), Has.Count.EqualTo(2));
            Assert.That(requests[1].Body, Is.EqualTo(requests[0].Body));
            Assert.That(requests[1].ApnsId, Is.EqualTo(requests[0].ApnsId));
        }

        // The renewed token is the one kept.
        await SendAsync(ChannelKind.Apns);
        Assert.That(Server.Requests.Last().Jwt, Is.EqualTo(requests[1].Jwt));
    }

    [Test]
    public async Task ConcurrentSendsRejectedForOneExpiredTokenRenewItOnce()
    {
        const int sends = 8;
        string? first = null;
        var held = 0;
        var allArrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Server.Respond = async (request, aborted) =>
        {
            lock (allArrived)
            {
                first ??= request.Jwt;
            }

            if (request.Jwt != first)
            {
                return FakeReply.Ok;
            }

            // Every send holds the same token before any is told it expired.
            if (Interlocked.Increment(ref held) == sends)
            {
                allArrived.SetResult();
            }

            await allArrived.Task.WaitAsync(Patience, aborted);
            return ExpiredProviderToken;
        };

        var results = await Task.WhenAll(Enumerable.Range(0, sends).Select(_ => SendAsync(ChannelKind.ApnsVoip)));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(results, Is.All.EqualTo(DeliveryResult.Accepted()));
            Assert.That(Server.Requests, Has.Count.EqualTo(2 * sends));
            Assert.That(DistinctTokens(), Has.Count.EqualTo(2), "one renewal for all");
        }
    }

    [Test]
    public async Task ARenewedTokenAlsoRejectedAsExpiredIsACredentialErrorAndNotRenewedAgainWithin20Minutes()
    {
        Server.Respond = (_, _) => Task.FromResult(ExpiredProviderToken);

        var first = await SendAsync(ChannelKind.ApnsVoip);
        var requestsAfterFirst = Server.Requests.Count;
        Time.Advance(TimeSpan.FromMinutes(20) - TimeSpan.FromSeconds(1));
        var second = await SendAsync(ChannelKind.ApnsVoip);
        var tokensWithin20Minutes = DistinctTokens().Count;

        using (Assert.EnterMultipleScope())
        {
            Assert.That(first, Is.EqualTo(DeliveryResult.Failed(ApnsSender.CredentialError)));
            Assert.That(requestsAfterFirst, Is.EqualTo(2), "the first send renewed the token and tried once more");
            Assert.That(second, Is.EqualTo(DeliveryResult.Failed(ApnsSender.CredentialError)));
            Assert.That(Server.Requests, Has.Count.EqualTo(3), "the second send was not retried: no renewal allowed yet");
            Assert.That(tokensWithin20Minutes, Is.EqualTo(2));
            Assert.That(SenderLogs().Where(e => e.Level == LogLevel.Error).Count(), Is.EqualTo(2));
        }

        // Past the floor Apple's verdict earns one more renewal.
        Time.Advance(TimeSpan.FromSeconds(1));
        await SendAsync(ChannelKind.ApnsVoip);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(Server.Requests, Has.Count.EqualTo(5));
            Assert.That(DistinctTokens(), Has.Count.EqualTo(3));
        }
    }
}
