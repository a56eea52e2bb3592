using CallNotify.Domain.Common;

namespace CallNotify.Domain.Tests.Common;

public class PushAddressTests
{
    [Test]
    public void KeepsFcmTokenAsGiven()
    {
        const string token = "dGVzdA:APA91bH-Some_Mixed_Case-Token";

        var address = PushAddress.Parse(ChannelKind.Fcm, token);

        Assert.That(address.Value, Is.EqualTo(token));
    }

    [TestCase(ChannelKind.ApnsVoip)]
    [TestCase(ChannelKind.Apns)]
    public void LowerCasesApnsToken(ChannelKind channel)
    {
        var address = PushAddress.Parse(channel, "ABCDEF0123456789abcdef");

        Assert.That(address.Value, Is.EqualTo("abcdef0123456789abcdef"));
    }

    [TestCase(ChannelKind.ApnsVoip)]
    [TestCase(ChannelKind.Apns)]
    public void RejectsNonHexApnsToken(ChannelKind channel)
    {
        const string token = "abcdefg123";

        using (Assert.EnterMultipleScope())
        {
            Assert.That(PushAddress.IsValid(channel, token), Is.False);
            Assert.That(
                () => PushAddress.Parse(channel, token),
                Throws.TypeOf<DomainException>().With.Property(nameof(DomainException.Field)).EqualTo("address"));
        }
    }

    [Test]
    public void AcceptsNonHexFcmToken()
    {
        Assert.That(PushAddress.IsValid(ChannelKind.Fcm, "abcdefg:xyz"), Is.True);
    }

    [TestCase(ChannelKind.Fcm)]
    [TestCase(ChannelKind.ApnsVoip)]
    [TestCase(ChannelKind.Apns)]
    public void AcceptsAddressOfExactlyMaxLength(ChannelKind channel)
    {
        var token = new string('a', PushAddress.MaxLength);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(PushAddress.MaxLength, Is.EqualTo(4096));
            Assert.That(PushAddress.Parse(channel, token).Value, Has.Length.EqualTo(4096));
        }
    }

    [TestCase(ChannelKind.Fcm)]
    [TestCase(ChannelKind.ApnsVoip)]
    [TestCase(ChannelKind.Apns)]
    public void RejectsAddressOneCharacterOverMaxLength(ChannelKind channel)
    {
        var token = new string('a', PushAddress.MaxLength + 1);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(PushAddress.IsValid(channel, token), Is.False);
            Assert.That(() => PushAddress.Parse(channel, token), Throws.TypeOf<DomainException>());
        }
    }

    [TestCase(null, TestName = "RejectsNullAddress")]
    [TestCase("", TestName = "RejectsEmptyAddress")]
    [TestCase("abc def", TestName = "RejectsAddressWithSpace")]
    [TestCase("abc\ndef", TestName = "RejectsAddressWithNewline")]
    [TestCase("abc\u00a0def", TestName = "RejectsAddressWithNoBreakSpace")]
    public void RejectsBlankOrSpacedFcmAddress(string? token)
    {
        Assert.That(PushAddress.IsValid(ChannelKind.Fcm, token), Is.False);
    }

    [Test]
    public void ToStringShowsOnlyTheLastSixCharacters()
    {
        var address = PushAddress.Parse(ChannelKind.Fcm, "secret-token-123456");

        using (Assert.EnterMultipleScope())
        {
            Assert.That(address.ToString(), Is.EqualTo("…123456"));
            Assert.That(address.ToString(), Does.Not.Contain("secret"));
            Assert.That(PushAddress.Redact("short"), Is.EqualTo("…"));
            Assert.That(PushAddress.Redact(null), Is.Empty);
        }
    }
}
