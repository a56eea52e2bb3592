using CallNotify.Application.Tests.Support;
using CallNotify.Application.WebSockets.IssueWebSocketToken;

namespace CallNotify.Application.Tests.WebSockets.IssueWebSocketToken;

public class IssueWebSocketTokenValidatorTests
{
    private readonly IssueWebSocketTokenValidator _validator = new();

    private IEnumerable<string> InvalidProperties(IssueWebSocketTokenCommand command) =>
        _validator.Validate(command).Errors.Select(e => e.PropertyName).Distinct();

    [TestCase(null)]
    [TestCase(1)]
    [TestCase(3600)]
    [TestCase(86_400)]
    public void AcceptsATtlFromOneSecondToOneDay(int? ttlSeconds)
    {
        Assert.That(InvalidProperties(new IssueWebSocketTokenCommand(TestData.AccountSidValue, "bob", ttlSeconds)), Is.Empty);
    }

    [TestCase(0)]
    [TestCase(-5)]
    [TestCase(86_401)]
    public void RefusesATtlOutsideOneSecondToOneDay(int ttlSeconds)
    {
        Assert.That(
            InvalidProperties(new IssueWebSocketTokenCommand(TestData.AccountSidValue, "bob", ttlSeconds)),
            Is.EqualTo(new[] { nameof(IssueWebSocketTokenCommand.TtlSeconds) }));
    }

    [TestCase(null, "bob", nameof(IssueWebSocketTokenCommand.AccountSid))]
    [TestCase("ACxyz", "bob", nameof(IssueWebSocketTokenCommand.AccountSid))]
    [TestCase(TestData.AccountSidValue, null, nameof(IssueWebSocketTokenCommand.Identity))]
    [TestCase(TestData.AccountSidValue, "", nameof(IssueWebSocketTokenCommand.Identity))]
    [TestCase(TestData.AccountSidValue, "b\u0000b", nameof(IssueWebSocketTokenCommand.Identity))]
    public void RefusesAMalformedAccountOrIdentity(string? accountSid, string? identity, string property)
    {
        Assert.That(InvalidProperties(new IssueWebSocketTokenCommand(accountSid, identity, null)), Is.EqualTo(new[] { property }));
    }

    [Test]
    public void MaxTtlIsOneDay()
    {
        Assert.That(IssueWebSocketTokenCommand.MaxTtlSeconds, Is.EqualTo(86_400));
    }
}
