using CallNotify.Domain.Common;
using CallNotify.Infrastructure.Configuration;
using CallNotify.Infrastructure.WebSockets;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace CallNotify.Infrastructure.Tests.WebSockets;

public sealed class WebSocketTokenServiceTests
{
    private static readonly AccountSid Account = AccountSid.Parse("AC00000000000000000000000000000001");
    private static readonly ClientIdentity Bob = ClientIdentity.Parse("bob");

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 28, 12, 0, 0, TimeSpan.Zero));

    /// <summary>Issue #15: a 256-character identity of non-ASCII letters got a token over the length the service accepts.</summary>
    [TestCase("é", 256)]
    [TestCase("中", 256)]
    [TestCase("\U0001F600", 128)]
    [TestCase("\"", 256)]
    [TestCase("\u2028", 256)]
    [TestCase("a", 256)]
    public void ATokenForTheLongestIdentityOfAnyLettersIsAccepted(string letter, int times)
    {
        var identity = ClientIdentity.Parse(string.Concat(Enumerable.Repeat(letter, times)));
        Assert.That(identity.Value, Has.Length.EqualTo(ClientIdentity.MaxLength));
        var service = Service("first-key-first-key-first-key-first-key!");

        var token = service.Issue(Account, identity, _time.GetUtcNow().AddHours(1));
        var claims = service.Validate(token.Token);

        Assert.That(claims?.Identity, Is.EqualTo(identity), $"a token of {token.Token.Length} characters");
    }

    [Test]
    public void ATokenItIssuedValidatesToTheSameClient()
    {
        var service = Service("first-key-first-key-first-key-first-key!");
        var token = service.Issue(Account, Bob, _time.GetUtcNow().AddHours(1));

        var claims = service.Validate(token.Token);

        Assert.That(claims, Is.Not.Null);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(claims!.AccountSid, Is.EqualTo(Account));
            Assert.That(claims.Identity, Is.EqualTo(Bob));
            Assert.That(claims.ExpiresAt, Is.EqualTo(token.ExpiresAt));
        }
    }

    [Test]
    public void AnExpiredTokenIsRefused()
    {
        var service = Service("first-key-first-key-first-key-first-key!");
        var token = service.Issue(Account, Bob, _time.GetUtcNow().AddMinutes(5));

        _time.Advance(TimeSpan.FromMinutes(5));

        Assert.That(service.Validate(token.Token), Is.Null);
    }

    [Test]
    public void ATokenSignedWithAnotherKeyIsRefused()
    {
        var token = Service("other-key-other-key-other-key-other-key!").Issue(Account, Bob, _time.GetUtcNow().AddHours(1));

        Assert.That(Service("first-key-first-key-first-key-first-key!").Validate(token.Token), Is.Null);
    }

    [Test]
    public void ATokenWhoseClaimsWereChangedIsRefused()
    {
        var service = Service("first-key-first-key-first-key-first-key!");
        var token = service.Issue(Account, Bob, _time.GetUtcNow().AddHours(1)).Token;
        var alice = service.Issue(Account, ClientIdentity.Parse("alice"), _time.GetUtcNow().AddHours(1)).Token;

        // Alice's claims with Bob's MAC.
        var forged = alice[..alice.IndexOf('.', StringComparison.Ordinal)] + token[token.IndexOf('.', StringComparison.Ordinal)..];

        Assert.That(service.Validate(forged), Is.Null);
    }

    [TestCase(null)]
    [TestCase("")]
    [TestCase(".")]
    [TestCase("abc")]
    [TestCase("abc.def")]
    [TestCase("!!!.???")]
    public void GarbageIsRefused(string? token)
    {
        Assert.That(Service("first-key-first-key-first-key-first-key!").Validate(token), Is.Null);
    }

    [Test]
    public void ATokenSaysWhenItWasIssuedToTheMillisecond()
    {
        _time.Advance(TimeSpan.FromMilliseconds(123));
        var service = Service("first-key-first-key-first-key-first-key!");
        var token = service.Issue(Account, Bob, _time.GetUtcNow().AddHours(1));

        Assert.That(service.Validate(token.Token)?.IssuedAt, Is.EqualTo(_time.GetUtcNow()));
    }

    [Test]
    public void ATokenFromBeforeIssueTimesCountsAsIssuedAtTheBeginningOfTime()
    {
        const string key = "first-key-first-key-first-key-first-key!";
        var claims = System.Text.Encoding.UTF8.GetBytes(
            $"{{\"a\":\"{Account.Value}\",\"i\":\"bob\",\"e\":{_time.GetUtcNow().AddHours(1).ToUnixTimeSeconds()}}}");
        var mac = System.Security.Cryptography.HMACSHA256.HashData(System.Text.Encoding.UTF8.GetBytes(key), claims);
        var token = System.Buffers.Text.Base64Url.EncodeToString(claims) + "." + System.Buffers.Text.Base64Url.EncodeToString(mac);

        var validated = Service(key).Validate(token);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(validated?.Identity, Is.EqualTo(Bob));
            Assert.That(validated?.IssuedAt, Is.EqualTo(DateTimeOffset.MinValue));
        }
    }

    private WebSocketTokenService Service(string key) =>
        new(Options.Create(new WebSocketTokenOptions { TokenSigningKey = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(key)) }), _time);
}
