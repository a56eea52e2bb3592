using CallNotify.Domain.Common;

namespace CallNotify.Domain.Tests.Common;

public class AccountSidTests
{
    private const string Valid = "AC0123456789abcdef0123456789abcdef";

    [TestCase(Valid)]
    [TestCase("AC0123456789ABCDEF0123456789ABCDEF")]
    [TestCase("ACffffffffffffffffffffffffffffffff")]
    public void AcceptsAcFollowedByThirtyTwoHexDigits(string value)
    {
        var sid = AccountSid.Parse(value);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(AccountSid.IsValid(value), Is.True);
            Assert.That(sid.Value, Is.EqualTo(value));
            Assert.That(sid.ToString(), Is.EqualTo(value));
        }
    }

    [TestCase(null, TestName = "RejectsNull")]
    [TestCase("", TestName = "RejectsEmpty")]
    [TestCase("CA0123456789abcdef0123456789abcdef", TestName = "RejectsCallSidPrefix")]
    [TestCase("ac0123456789abcdef0123456789abcdef", TestName = "RejectsLowerCasePrefix")]
    [TestCase("PN0123456789abcdef0123456789abcdef", TestName = "RejectsOtherPrefix")]
    [TestCase("AC0123456789abcdef0123456789abcde", TestName = "RejectsThirtyOneDigits")]
    [TestCase("AC0123456789abcdef0123456789abcdef0", TestName = "RejectsThirtyThreeDigits")]
    [TestCase("AC0123456789abcdef0123456789abcdeg", TestName = "RejectsNonHexDigit")]
    [TestCase("AC 123456789abcdef0123456789abcdef", TestName = "RejectsSpace")]
    [TestCase("AC０123456789abcdef0123456789abcdef", TestName = "RejectsNonAsciiDigit")]
    public void RejectsMalformedSid(string? value)
    {
        var parsed = AccountSid.TryParse(value, out var sid);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(AccountSid.IsValid(value), Is.False);
            Assert.That(parsed, Is.False);
            Assert.That(sid, Is.EqualTo(default(AccountSid)));
            Assert.That(
                () => AccountSid.Parse(value),
                Throws.TypeOf<DomainException>().With.Property(nameof(DomainException.Field)).EqualTo("accountSid"));
        }
    }

    [Test]
    public void TryParseReturnsTheSidWhenValid()
    {
        var parsed = AccountSid.TryParse(Valid, out var sid);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(parsed, Is.True);
            Assert.That(sid.Value, Is.EqualTo(Valid));
        }
    }

    [Test]
    public void SidsWithTheSameValueAreEqual()
    {
        var sameValue = string.Concat("AC", Valid[2..]);

        Assert.That(AccountSid.Parse(sameValue), Is.EqualTo(AccountSid.Parse(Valid)));
    }
}
