using CallNotify.Domain.Common;

namespace CallNotify.Domain.Tests.Common;

public class ClientIdentityTests
{
    [TestCase("alice")]
    [TestCase("a")]
    [TestCase("user@example.com")]
    [TestCase("名前 with spaces")]
    public void AcceptsPrintableIdentity(string value)
    {
        Assert.That(ClientIdentity.Parse(value).Value, Is.EqualTo(value));
    }

    [Test]
    public void AcceptsIdentityOfExactlyMaxLength()
    {
        var value = new string('x', ClientIdentity.MaxLength);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(ClientIdentity.MaxLength, Is.EqualTo(256));
            Assert.That(ClientIdentity.IsValid(value), Is.True);
            Assert.That(ClientIdentity.Parse(value).Value, Has.Length.EqualTo(256));
        }
    }

    [Test]
    public void RejectsIdentityOneCharacterOverMaxLength()
    {
        var value = new string('x', ClientIdentity.MaxLength + 1);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(ClientIdentity.IsValid(value), Is.False);
            Assert.That(
                () => ClientIdentity.Parse(value),
                Throws.TypeOf<DomainException>().With.Property(nameof(DomainException.Field)).EqualTo("identity"));
        }
    }

    [TestCase(null, TestName = "RejectsNullIdentity")]
    [TestCase("", TestName = "RejectsEmptyIdentity")]
    [TestCase("ali\nce", TestName = "RejectsNewline")]
    [TestCase("alice\t", TestName = "RejectsTab")]
    [TestCase("\0alice", TestName = "RejectsNul")]
    [TestCase("ali\u007fce", TestName = "RejectsDelete")]
    [TestCase("ali\u0085ce", TestName = "RejectsC1ControlCharacter")]
    public void RejectsInvalidIdentity(string? value)
    {
        using (Assert.EnterMultipleScope())
        {
            Assert.That(ClientIdentity.IsValid(value), Is.False);
            Assert.That(() => ClientIdentity.Parse(value), Throws.TypeOf<DomainException>());
        }
    }

    [Test]
    public void ReadsIdentityFromClientAddress()
    {
        var found = ClientIdentity.TryFromClientAddress("client:alice", out var identity);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(found, Is.True);
            Assert.That(identity.Value, Is.EqualTo("alice"));
        }
    }

    [Test]
    public void ReadsIdentityOfMaxLengthFromClientAddress()
    {
        var value = new string('y', ClientIdentity.MaxLength);

        var found = ClientIdentity.TryFromClientAddress(ClientIdentity.ClientPrefix + value, out var identity);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(found, Is.True);
            Assert.That(identity.Value, Is.EqualTo(value));
        }
    }

    [TestCase(null, TestName = "RefusesNullAddress")]
    [TestCase("alice", TestName = "RefusesAddressWithoutClientPrefix")]
    [TestCase("+15551234567", TestName = "RefusesPhoneNumber")]
    [TestCase("Client:alice", TestName = "RefusesPrefixInOtherCase")]
    [TestCase("sip:alice@example.com", TestName = "RefusesSipAddress")]
    [TestCase("client:", TestName = "RefusesEmptyIdentityAfterPrefix")]
    [TestCase("client:ali\rce", TestName = "RefusesControlCharacterAfterPrefix")]
    public void RefusesAddressThatIsNotAClient(string? address)
    {
        var found = ClientIdentity.TryFromClientAddress(address, out var identity);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(found, Is.False);
            Assert.That(identity, Is.EqualTo(default(ClientIdentity)));
        }
    }

    [Test]
    public void RefusesClientAddressWhoseIdentityIsTooLong()
    {
        var address = ClientIdentity.ClientPrefix + new string('y', ClientIdentity.MaxLength + 1);

        Assert.That(ClientIdentity.TryFromClientAddress(address, out _), Is.False);
    }
}
